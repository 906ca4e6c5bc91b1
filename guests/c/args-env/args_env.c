// The args and env echo behaviour: every argument, then every variable of
// the environment, sorted, one per line.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        printf("arg[%d]=%s\n", i, argv[i]);
    }
    size_t count = 0;
    while (environ[count] != NULL) {
        count++;
    }
    char **vars = malloc((count + 1) * sizeof *vars);
    if (vars == NULL) {
        return 1;
    }
    memcpy(vars, environ, count * sizeof *vars);
    qsort(vars, count, sizeof *vars, by_name);
    for (size_t i = 0; i < count; i++) {
        printf("env %s\n", vars[i]);
    }
    free(vars);
    return 0;
}
