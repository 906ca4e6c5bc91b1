// A command whose `weft-ready` hook fails, so it must never run: returning
// false with `err` set returns `err(message)`.
#include <stdio.h>

#include "ready_app.h"

bool exports_ready_app_weft_ready(ready_app_string_t *err) {
    ready_app_string_dup(err, "the database at db.internal:5432 is not reachable");
    return false;
}

bool exports_wasi_cli_run_run(void) {
    printf("run: this must not be printed\n");
    fflush(stdout);
    return true;
}
