"""A command with a `weft-ready` hook that succeeds."""

import wit_world
from wit_world import exports


class WitWorld(wit_world.WitWorld):
    def weft_ready(self) -> None:
        print("weft-ready: ok")


class Run(exports.Run):
    def run(self) -> None:
        print("run: started")
