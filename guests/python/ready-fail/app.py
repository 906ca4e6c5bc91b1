"""A command whose `weft-ready` hook fails, so it must never run. Raising
`Err(message)` returns `err(message)` from `weft-ready`."""

import wit_world
from wit_world import exports
from componentize_py_types import Err


class WitWorld(wit_world.WitWorld):
    def weft_ready(self) -> None:
        raise Err("the database at db.internal:5432 is not reachable")


class Run(exports.Run):
    def run(self) -> None:
        print("run: this must not be printed")
