// The mounts behaviour: reads /input (read-only) and writes /output
// (read-write); with `write-readonly`, tries every kind of write on /input.
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_write(void) {
    char greeting[4096];
    FILE *in = fopen("/input/greeting.txt", "r");
    if (in == NULL) {
        fprintf(stderr, "cannot read /input/greeting.txt: %s\n", strerror(errno));
        return 2;
    }
    size_t len = fread(greeting, 1, sizeof greeting - 1, in);
    fclose(in);
    greeting[len] = '\0';
    printf("read: %s", greeting);
    for (size_t i = 0; i < len; i++) {
        greeting[i] = (char)toupper((unsigned char)greeting[i]);
    }
    FILE *out = fopen("/output/result.txt", "w");
    if (out == NULL || fwrite(greeting, 1, len, out) != len || fclose(out) != 0) {
        fprintf(stderr, "cannot write /output/result.txt: %s\n", strerror(errno));
        return 2;
    }
    printf("wrote /output/result.txt\n");
    return 0;
}

static int report(const char *what, int fd_or_status) {
    if (fd_or_status >= 0) {
        printf("%s: allowed\n", what);
        return 1;
    }
    printf("%s: denied\n", what);
    return 0;
}

static int write_read_only(void) {
    int allowed = 0;
    allowed += report("create /input/new.txt", open("/input/new.txt", O_WRONLY | O_CREAT, 0644));
    allowed += report("append to /input/greeting.txt", open("/input/greeting.txt", O_WRONLY | O_APPEND));
    allowed += report("mkdir /input/sub", mkdir("/input/sub", 0755));
    return allowed == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "read-write") == 0) {
        return read_write();
    }
    if (strcmp(mode, "write-readonly") == 0) {
        return write_read_only();
    }
    fprintf(stderr, "usage: files read-write|write-readonly (got \"%s\")\n", mode);
    return 2;
}
