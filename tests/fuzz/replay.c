/* SPDX-License-Identifier: MIT */
/* Runs a fuzz target over files given on the command line, so that normal
 * (non-clang) builds test the corpus too: one TAP line per file, "not ok"
 * when the target crashes or aborts on one (the targets abort() when an
 * invariant they check is broken), each file in a child of its own so that
 * one failure does not hide the others.
 *
 *   replay --expect EXPECTED FILE...
 *
 * EXPECTED has a line "NAME accepted" or "NAME rejected" for each file
 * (NAME: the file's name without its directory): the target's verdict
 * (fuzz-verdict.h) on the file must be that one. A file it does not list
 * fails too, so that every seed says what it is for. */
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "fuzz-verdict.h"
#include "macro.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The child's exit status: its verdict, or why there is none. */
enum {
        CHILD_ACCEPTED = 0,
        CHILD_UNREADABLE = 1,
        CHILD_REJECTED = 2,
        CHILD_NO_VERDICT = 3,
};

static int run_one(const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t size;

        if (read_full_file(path, &data, &size) < 0) {
                fprintf(stderr, "cannot read %s\n", path);
                return CHILD_UNREADABLE;
        }
        fuzz_verdict = FUZZ_UNSET;
        LLVMFuzzerTestOneInput((const uint8_t *) data, size);
        return fuzz_verdict == FUZZ_ACCEPTED ? CHILD_ACCEPTED :
               fuzz_verdict == FUZZ_REJECTED ? CHILD_REJECTED : CHILD_NO_VERDICT;
}

/* "accepted" or "rejected" for name in the lines of expected, or NULL. */
static const char *expected_verdict(char **lines, const char *name) {
        STRV_FOREACH(l, lines) {
                const char *v = startswith(*l, name);

                if (v && *v == ' ')
                        return v + 1;
        }
        return NULL;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **expected = NULL;
        int failed = 0, first = 1;

        if (argc > 2 && streq(argv[1], "--expect")) {
                if (read_full_file(argv[2], &text, NULL) < 0) {
                        fprintf(stderr, "cannot read %s\n", argv[2]);
                        return 1;
                }
                char *save = NULL;
                for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        strv_extend(&expected, l);
                first = 3;
        }

        printf("1..%d\n", argc - first);
        fflush(stdout);
        for (int i = first; i < argc; i++) {
                const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
                const char *want = expected ? expected_verdict(expected, name) : NULL;
                int n = i - first + 1, status;
                pid_t pid;

                if (expected && !want) {
                        failed++;
                        printf("not ok %d - %s (not in %s)\n", n, argv[i], argv[2]);
                        continue;
                }
                pid = fork();
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
                if (WIFSIGNALED(status)) {
                        failed++;
                        printf("not ok %d - %s (signal %d)\n", n, argv[i], WTERMSIG(status));
                } else if (WEXITSTATUS(status) != CHILD_ACCEPTED && WEXITSTATUS(status) != CHILD_REJECTED) {
                        failed++;
                        printf("not ok %d - %s (exit status %d)\n", n, argv[i], WEXITSTATUS(status));
                } else {
                        const char *got = WEXITSTATUS(status) == CHILD_ACCEPTED ? "accepted" : "rejected";

                        if (want && !streq(want, got)) {
                                failed++;
                                printf("not ok %d - %s (%s, expected %s)\n", n, argv[i], got, want);
                        } else
                                printf("ok %d - %s %s\n", n, argv[i], got);
                }
                fflush(stdout);
        }
        return failed > 0;
}
