// The hello behaviour as plain C: a `main` built for wasm32-wasi (preview1)
// and packed as a core module, which weft runs through the preview1 adapter.
#include <stdio.h>

int main(int argc, char **argv) {
    printf("Hello, %s!\n", argc > 1 ? argv[1] : "weft");
    return 0;
}
