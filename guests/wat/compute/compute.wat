;; The compute behaviour as the smallest possible component: one core
;; function, lifted as `compute: func(a: u32, b: u32) -> u32`. No imports.
(component
  (core module $m
    (func (export "compute") (param i32 i32) (result i32)
      (i32.mul (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func $compute (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "compute")))
  (export "compute" (func $compute)))
