;; Grows a table by 100,000 elements at a time until a growth is refused,
;; then traps: weft must report the table limit (its default cap, without
;; any flag or manifest setting), not the trap.
(module
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (func (export "_start")
    (loop $again
      (if (i32.eq (table.grow $t (ref.null func) (i32.const 100000)) (i32.const -1))
        (then unreachable))
      (br $again))))
