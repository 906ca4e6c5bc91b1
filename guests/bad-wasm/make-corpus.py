"""Writes this folder's bad wasm files (run it here: python3 make-corpus.py).

Each is packed with a manifest that pins its own hash, so weft gets past the
integrity check and must say what is wrong with the wasm itself.
"""


def uleb(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


COMPONENT = b"\0asm\x0d\x00\x01\x00"
CORE = b"\0asm\x01\x00\x00\x00"


def section(id, body):
    return bytes([id]) + uleb(len(body)) + body


def name(s):
    return uleb(len(s)) + s.encode()


files = {}
files["empty.wasm"] = b""
files["wrong-magic.wasm"] = b"\0asn\x01\x00\x00\x00"
files["unknown-version.wasm"] = b"\0asm\x02\x00\x00\x00"
# A real component (the wat/hello-component guest) cut short, and with
# 16 bytes in its middle overwritten.
hello = open("../../fuzz/seeds/package/wat.hellocomponent.wasm", "rb").read()
files["truncated.wasm"] = hello[: len(hello) * 6 // 10]
corrupted = bytearray(hello)
middle = len(corrupted) // 2
corrupted[middle : middle + 16] = b"\xff" * 16
files["corrupted.wasm"] = bytes(corrupted)
# (module (func (export "_start")))
files["core-no-memory.wasm"] = (
    CORE
    + section(1, b"\x01\x60\x00\x00")
    + section(3, b"\x01\x00")
    + section(7, b"\x01" + name("_start") + b"\x00\x00")
    + section(10, b"\x01\x02\x00\x0b")
)
# (module (import "env" "f" (func)) (memory (export "memory") 1)
#         (func (export "_start")))
files["core-unknown-import.wasm"] = (
    CORE
    + section(1, b"\x01\x60\x00\x00")
    + section(2, b"\x01" + name("env") + name("f") + b"\x00\x00")
    + section(3, b"\x01\x00")
    + section(5, b"\x01\x00\x01")
    + section(7, b"\x02" + name("memory") + b"\x02\x00" + name("_start") + b"\x00\x01")
    + section(10, b"\x01\x02\x00\x0b")
)
# (module (memory (export "memory") 1) (func (export "_start") i32.const 1)):
# well formed, but the body leaves a value on the stack, so it does not
# validate.
files["core-bad-body.wasm"] = (
    CORE
    + section(1, b"\x01\x60\x00\x00")
    + section(3, b"\x01\x00")
    + section(5, b"\x01\x00\x01")
    + section(7, b"\x02" + name("memory") + b"\x02\x00" + name("_start") + b"\x00\x00")
    + section(10, b"\x01\x04\x00\x41\x01\x0b")
)
# A core module whose first section claims more bytes than the file has.
files["core-truncated.wasm"] = CORE + b"\x01\xff\xff\x03\x01\x60"
# 50,000 chained list types: list<u8>, list<list<u8>>, ...
n = 50_000
files["deep-types.wasm"] = COMPONENT + section(
    7, uleb(n) + b"\x70\x7d" + b"".join(b"\x70" + sleb(i - 1) for i in range(1, n))
)
# Each type a tuple of the previous one twice: the last is 2^64 u8s.
n = 64
files["huge-types.wasm"] = COMPONENT + section(
    7,
    uleb(n)
    + b"\x6f\x02\x7d\x7d"
    + b"".join(b"\x6f\x02" + sleb(i - 1) + sleb(i - 1) for i in range(1, n)),
)

for file, data in files.items():
    with open(file, "wb") as f:
        f.write(data)
