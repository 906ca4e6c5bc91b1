"""The args and env echo behaviour: every argument, then every variable of
the environment, sorted, one per line.

The arguments and environment are read through wasi:cli/environment at run
time: `sys.argv` and `os.environ` are snapshots taken when componentize-py
built the component."""

from wit_world import exports
from wit_world.imports import environment


class Run(exports.Run):
    def run(self) -> None:
        for i, arg in enumerate(environment.get_arguments()):
            print(f"arg[{i}]={arg}")
        for name, value in sorted(environment.get_environment()):
            print(f"env {name}={value}")
