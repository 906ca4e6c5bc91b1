"""`compute` as an `async func` in Python (componentize-py, world
`weft:app-p3/compute`): it awaits the monotonic clock, then multiplies
(u32, wrapping), so `compute(6, 7)` is 42."""

import wit_world
from wit_world.imports import monotonic_clock


class WitWorld(wit_world.WitWorld):
    async def compute(self, a: int, b: int) -> int:
        await monotonic_clock.wait_for(1_000_000)
        return (a * b) & 0xFFFFFFFF
