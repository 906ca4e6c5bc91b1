"""A WASI 0.3 command in Python (componentize-py, world `weft:app-p3/app`):
`run` is async; it awaits the monotonic clock and writes through the 0.3
stdout stream.

Arguments pick what it does: none or a name greets; `sleep MS` awaits the
clock for MS milliseconds; `exit N` exits with N; `fail` returns an error
from `run`; `trap` raises an exception, which componentize-py turns into a
trap.
"""

import wit_world
from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import environment, exit as wasi_exit, monotonic_clock, stdout


async def write(text: str) -> None:
    """Writes `text` to stdout through a 0.3 stream and awaits the write."""
    tx, rx = wit_world.byte_stream()
    written = stdout.write_via_stream(rx)
    with tx:
        await tx.write_all(text.encode())
    await written.read()


class Run(exports.Run):
    async def run(self) -> None:
        args = environment.get_arguments()
        what = args[1] if len(args) > 1 else "weft"
        if what == "sleep":
            await monotonic_clock.wait_for(int(args[2]) * 1_000_000)
            await write(f"slept {args[2]} ms\n")
        elif what == "exit":
            wasi_exit.exit_with_code(int(args[2]))
        elif what == "fail":
            raise Err(None)
        elif what == "trap":
            raise RuntimeError("the guest was asked to trap")
        else:
            await monotonic_clock.wait_for(1_000_000)
            await write(f"Hello, {what}, from WASI 0.3 in Python!\n")
