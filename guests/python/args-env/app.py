"""The args and env echo behaviour: every argument, then every variable of
the environment, sorted, one per line, read through the generated bindings
for wasi:cli/environment (`sys.argv` and `os.environ` hold the same values)."""

from wit_world import exports
from wit_world.imports import environment


class Run(exports.Run):
    def run(self) -> None:
        for i, arg in enumerate(environment.get_arguments()):
            print(f"arg[{i}]={arg}")
        for name, value in sorted(environment.get_environment()):
            print(f"env {name}={value}")
