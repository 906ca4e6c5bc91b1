;; A component whose world declares a resource at world level
;; (`world w { resource handle; export make: func() -> handle; }`): it imports
;; the resource type `handle`, which the host would have to provide. weft
;; provides none, and says so before compiling.
(component
  (import "handle" (type $handle (sub resource)))
  (core module $m
    (func (export "make") (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (type $own (own $handle))
  (func $make (result $own) (canon lift (core func $i "make")))
  (export "make" (func $make))
)
