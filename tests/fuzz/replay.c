/* SPDX-License-Identifier: MIT */
/* Runs a fuzz target over files given on the command line, so that normal
 * (non-clang) builds test the corpus too: one TAP line per file, "not ok"
 * when the target crashes or aborts on one (the targets abort() when an
 * invariant they check is broken), each file in a child of its own so that
 * one failure does not hide the others. */
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_one(const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t size;

        if (read_full_file(path, &data, &size) < 0) {
                fprintf(stderr, "cannot read %s\n", path);
                return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *) data, size);
        return 0;
}

int main(int argc, char *argv[]) {
        int failed = 0;

        printf("1..%d\n", argc - 1);
        fflush(stdout);
        for (int i = 1; i < argc; i++) {
                int status;
                pid_t pid = fork();

                if (pid < 0) {
                        perror("fork");
                        return 1;
                }
                if (pid == 0)
                        _exit(run_one(argv[i]));
                if (waitpid(pid, &status, 0) < 0) {
                        perror("waitpid");
                        return 1;
                }
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        printf("ok %d - %s\n", i, argv[i]);
                else {
                        failed++;
                        if (WIFSIGNALED(status))
                                printf("not ok %d - %s (signal %d)\n", i, argv[i], WTERMSIG(status));
                        else
                                printf("not ok %d - %s (exit status %d)\n", i, argv[i], WEXITSTATUS(status));
                }
                fflush(stdout);
        }
        return failed > 0;
}
