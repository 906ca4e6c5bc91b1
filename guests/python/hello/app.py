"""The hello behaviour in Python: greets whoever the first argument names."""

import sys

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        who = sys.argv[1] if len(sys.argv) > 1 else "weft"
        print(f"Hello, {who}!")
