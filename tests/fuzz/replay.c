/* SPDX-License-Identifier: MIT */
/* Runs a fuzz target over files given on the command line, so that normal
 * (non-clang) builds test the corpus too. */
#include <stdint.h>

#include "fileio.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char *argv[]) {
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *data = NULL;
                size_t size;

                if (read_full_file(argv[i], &data, &size) < 0) {
                        fprintf(stderr, "cannot read %s\n", argv[i]);
                        return 1;
                }
                LLVMFuzzerTestOneInput((const uint8_t *) data, size);
                printf("ok %d - %s\n", i, argv[i]);
        }
        printf("1..%d\n", argc - 1);
        return 0;
}
