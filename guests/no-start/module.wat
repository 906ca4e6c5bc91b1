;; A core module with no `_start`: not a command, so weft must refuse it.
(module
  (func (export "main"))
)
