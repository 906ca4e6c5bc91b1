"""The mounts behaviour: reads /input (read-only) and writes /output
(read-write); with `write-readonly`, tries every kind of write on /input."""

import os
import sys

from wit_world import exports
from wit_world.imports import environment


def read_write() -> None:
    try:
        with open("/input/greeting.txt") as f:
            greeting = f.read()
    except OSError as err:
        print(f"cannot read /input/greeting.txt: {err}", file=sys.stderr)
        sys.exit(2)
    print(f"read: {greeting}", end="")
    try:
        with open("/output/result.txt", "w") as f:
            f.write(greeting.upper())
    except OSError as err:
        print(f"cannot write /output/result.txt: {err}", file=sys.stderr)
        sys.exit(2)
    print("wrote /output/result.txt")


def write_read_only() -> None:
    def create() -> None:
        open("/input/new.txt", "w").close()

    def append() -> None:
        open("/input/greeting.txt", "a").close()

    attempts = [
        ("create /input/new.txt", create),
        ("append to /input/greeting.txt", append),
        ("mkdir /input/sub", lambda: os.mkdir("/input/sub")),
    ]
    all_denied = True
    for what, attempt in attempts:
        try:
            attempt()
            print(f"{what}: allowed")
            all_denied = False
        except OSError:
            print(f"{what}: denied")
    if not all_denied:
        sys.exit(1)


class Run(exports.Run):
    def run(self) -> None:
        args = environment.get_arguments()
        mode = args[1] if len(args) > 1 else ""
        if mode == "read-write":
            read_write()
        elif mode == "write-readonly":
            write_read_only()
        else:
            print(f"usage: files read-write|write-readonly (got {mode!r})", file=sys.stderr)
            sys.exit(2)
