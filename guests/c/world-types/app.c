// World-level types (guests/world-types/wit/world.wit), in C: the
// component imports `point`, `shape`, `color`, `perms` and `path` as types.
#include <stdlib.h>
#include "shapes.h"

void exports_shapes_move_point(shapes_point_t *p, int32_t dx, int32_t dy, shapes_point_t *ret) {
    ret->x = (int32_t)((uint32_t)p->x + (uint32_t)dx);
    ret->y = (int32_t)((uint32_t)p->y + (uint32_t)dy);
}

static uint64_t magnitude(int32_t v) {
    return v < 0 ? (uint64_t)(-(int64_t)v) : (uint64_t)v;
}

uint64_t exports_shapes_area(shapes_shape_t *s) {
    switch (s->tag) {
    case SHAPES_SHAPE_CIRCLE:
        return 3 * (uint64_t)s->val.circle * (uint64_t)s->val.circle;
    case SHAPES_SHAPE_RECT:
        return magnitude(s->val.rect.x) * magnitude(s->val.rect.y);
    default:
        return 0;
    }
}

shapes_color_t exports_shapes_next_color(shapes_color_t c) {
    switch (c) {
    case SHAPES_COLOR_RED:
        return SHAPES_COLOR_GREEN;
    case SHAPES_COLOR_GREEN:
        return SHAPES_COLOR_BLUE;
    default:
        return SHAPES_COLOR_RED;
    }
}

shapes_perms_t exports_shapes_toggle_write(shapes_perms_t p) {
    return p ^ SHAPES_PERMS_WRITE;
}

uint32_t exports_shapes_length(shapes_path_t *p) {
    uint32_t total = 0;
    for (size_t i = 1; i < p->len; i++) {
        total += (uint32_t)(magnitude(p->ptr[i].x - p->ptr[i - 1].x) + magnitude(p->ptr[i].y - p->ptr[i - 1].y));
    }
    shapes_path_free(p);
    return total;
}
