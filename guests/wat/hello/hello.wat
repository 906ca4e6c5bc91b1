;; The hello behaviour as a hand-written preview1 core module: prints
;; "Hello, <argv[1]>!" (or "Hello, weft!") with fd_write. weft runs it
;; through the preview1 command adapter, like any `_start` module.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get"
    (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "Hello, ")
  (data (i32.const 32) "weft")
  (data (i32.const 48) "!\n")

  ;; The length of the NUL-terminated string at $p.
  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))

  (func (export "_start")
    (local $name i32)
    (local $len i32)
    (local.set $name (i32.const 32))
    (local.set $len (i32.const 4))
    ;; argc at 64, the size of the argument strings at 68.
    (drop (call $args_sizes_get (i32.const 64) (i32.const 68)))
    ;; argv[] at 1024 (room for 256 pointers), the strings from 4096.
    (if (i32.and
          (i32.gt_u (i32.load (i32.const 64)) (i32.const 1))
          (i32.and
            (i32.le_u (i32.load (i32.const 64)) (i32.const 256))
            (i32.le_u (i32.load (i32.const 68)) (i32.const 61440))))
      (then
        (drop (call $args_get (i32.const 1024) (i32.const 4096)))
        (local.set $name (i32.load (i32.const 1028)))
        (local.set $len (call $strlen (local.get $name)))))
    (call $write (i32.const 16) (i32.const 7))
    (call $write (local.get $name) (local.get $len))
    (call $write (i32.const 48) (i32.const 2)))

  ;; Writes $len bytes at $ptr to stdout; fd_write may take fewer than
  ;; asked (the adapter writes one iovec per call), so loop until done.
  (func $write (param $ptr i32) (param $len i32)
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $len)))
        ;; One iovec at 128; the count written lands at 160.
        (i32.store (i32.const 128) (local.get $ptr))
        (i32.store (i32.const 132) (local.get $len))
        (br_if $done
          (i32.ne (call $fd_write (i32.const 1) (i32.const 128) (i32.const 1) (i32.const 160))
                  (i32.const 0)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.load (i32.const 160))))
        (local.set $len (i32.sub (local.get $len) (i32.load (i32.const 160))))
        (br $more)))))
