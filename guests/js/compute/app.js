// The compute behaviour: `compute(6, 7)` is 42 (u32 multiplication, wrapping).
export function compute(a, b) {
  return Math.imul(a, b) >>> 0;
}
