"""The hello behaviour in Python: greets whoever the first argument names."""

from wit_world import exports
from wit_world.imports import environment


class Run(exports.Run):
    def run(self) -> None:
        args = environment.get_arguments()
        who = args[1] if len(args) > 1 else "weft"
        print(f"Hello, {who}!")
