"""The compute behaviour: `compute(6, 7)` is 42 (u32 multiplication, wrapping)."""

import wit_world


class WitWorld(wit_world.WitWorld):
    def compute(self, a: int, b: int) -> int:
        return (a * b) & 0xFFFFFFFF
