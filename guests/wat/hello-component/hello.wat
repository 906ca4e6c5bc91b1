;; The hello behaviour as a hand-written component: it imports exactly the
;; three WASI functions it calls and exports `wasi:cli/run`. Everything a
;; toolchain would generate is spelled out: the instance types of the
;; imports, a bump allocator for `get-arguments`' strings, the lowering of
;; imports into core functions and the lifting of `run`.
(component
  ;; wasi:io/error, for the `error` resource that stream errors carry.
  (import "wasi:io/error@0.2.12" (instance $io-error
    (export "error" (type (sub resource)))))
  (alias export $io-error "error" (type $error))

  ;; wasi:io/streams: only `output-stream.blocking-write-and-flush`.
  (import "wasi:io/streams@0.2.12" (instance $streams
    (alias outer 1 $error (type $error))
    (export "error" (type $error' (eq $error)))
    (export "output-stream" (type $output-stream (sub resource)))
    (type $error-own (own $error'))
    (type $stream-error (variant (case "last-operation-failed" $error-own) (case "closed")))
    (export "stream-error" (type $stream-error' (eq $stream-error)))
    (type $self (borrow $output-stream))
    (type $bytes (list u8))
    (type $write-result (result (error $stream-error')))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" $self) (param "contents" $bytes) (result $write-result)))))
  (alias export $streams "output-stream" (type $output-stream))

  ;; wasi:cli/stdout: `get-stdout`.
  (import "wasi:cli/stdout@0.2.12" (instance $stdout
    (alias outer 1 $output-stream (type $output-stream))
    (export "output-stream" (type $output-stream' (eq $output-stream)))
    (type $stream-own (own $output-stream'))
    (export "get-stdout" (func (result $stream-own)))))

  ;; wasi:cli/environment: `get-arguments`.
  (import "wasi:cli/environment@0.2.12" (instance $environment
    (type $strings (list string))
    (export "get-arguments" (func (result $strings)))))

  ;; The memory, and the allocator the host calls to place argument strings.
  (core module $memory
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 4096))
    (func (export "realloc") (param $old i32) (param $old-size i32) (param $align i32) (param $size i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $ptr) (local.get $size)))
      (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.add
                    (i32.shr_u
                      (i32.sub (global.get $next) (i32.shl (memory.size) (i32.const 16)))
                      (i32.const 16))
                    (i32.const 1)))
                (i32.const -1))
            (then unreachable))))
      (local.get $ptr)))
  (core instance $memory (instantiate $memory))
  (alias core export $memory "memory" (core memory $mem))
  (alias core export $memory "realloc" (core func $realloc))

  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $write
    (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $mem)))
  (core func $get-arguments
    (canon lower (func $environment "get-arguments") (memory $mem) (realloc $realloc) string-encoding=utf8))

  (core module $main
    (import "env" "memory" (memory 1))
    (import "wasi" "get-stdout" (func $get-stdout (result i32)))
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "get-arguments" (func $get-arguments (param i32)))
    (data (i32.const 16) "Hello, ")
    (data (i32.const 32) "weft")
    (data (i32.const 48) "!\n")
    ;; `run: func() -> result`: 0 is ok, 1 is err.
    (func (export "run") (result i32)
      (local $out i32)
      (local $name i32)
      (local $len i32)
      (local $failed i32)
      (local.set $name (i32.const 32))
      (local.set $len (i32.const 4))
      ;; list<string> at 64: the array's pointer, then its length; each
      ;; element is a string's pointer and length.
      (call $get-arguments (i32.const 64))
      (if (i32.gt_u (i32.load (i32.const 68)) (i32.const 1))
        (then
          (local.set $name (i32.load offset=8 (i32.load (i32.const 64))))
          (local.set $len (i32.load offset=12 (i32.load (i32.const 64))))))
      (local.set $out (call $get-stdout))
      ;; Each write's result<_, stream-error> lands at 80; 0 is ok.
      (call $write (local.get $out) (i32.const 16) (i32.const 7) (i32.const 80))
      (local.set $failed (i32.load8_u (i32.const 80)))
      (call $write (local.get $out) (local.get $name) (local.get $len) (i32.const 80))
      (local.set $failed (i32.or (local.get $failed) (i32.load8_u (i32.const 80))))
      (call $write (local.get $out) (i32.const 48) (i32.const 2) (i32.const 80))
      (i32.or (local.get $failed) (i32.load8_u (i32.const 80)))))
  (core instance $env (export "memory" (memory $mem)))
  (core instance $wasi
    (export "get-stdout" (func $get-stdout))
    (export "write" (func $write))
    (export "get-arguments" (func $get-arguments)))
  (core instance $main (instantiate $main
    (with "env" (instance $env))
    (with "wasi" (instance $wasi))))

  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $run-instance (export "run" (func $run)))
  (export "wasi:cli/run@0.2.12" (instance $run-instance)))
