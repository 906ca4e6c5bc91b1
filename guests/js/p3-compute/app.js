// `compute` as an `async func` in JavaScript (componentize-qjs, world
// `weft:app-p3/compute`): it awaits the monotonic clock, then multiplies
// (u32, wrapping), so `compute(6, 7)` is 42.
import { waitFor } from "wasi:clocks/monotonic-clock@0.3.0";

export async function compute(a, b) {
  await waitFor(1000000);
  return Number((BigInt(a) * BigInt(b)) & 0xffffffffn);
}
