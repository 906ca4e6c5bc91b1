// A command with a `weft-ready` hook that succeeds, against `wit-bindgen c`
// bindings for the weft:app/ready-app world. It is a reactor (no `main`):
// stdout is flushed before each export returns, as no exit handler runs.
#include <stdio.h>

#include "ready_app.h"

bool exports_ready_app_weft_ready(ready_app_string_t *err) {
    (void)err;
    printf("weft-ready: ok\n");
    fflush(stdout);
    return true;
}

bool exports_wasi_cli_run_run(void) {
    printf("run: started\n");
    fflush(stdout);
    return true;
}
