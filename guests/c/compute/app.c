// The compute behaviour: `compute(6, 7)` is 42 (u32 multiplication, wrapping).
#include "compute.h"

uint32_t exports_compute_compute(uint32_t a, uint32_t b) {
    return a * b;
}
