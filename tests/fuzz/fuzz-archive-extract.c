/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the shared tar extractor (lib/archive/archive-extract.c:
 * include.tar provisioning, VM overlay includes, and the reader under KIS
 * pulls). Whatever the input, no crash, leak or undefined behaviour, and
 * the extraction stays confined. Each input is unpacked into TMP/root next
 * to a file TMP/victim; afterwards (abort() otherwise):
 *  - TMP holds nothing but root and victim, victim is unchanged and has no
 *    second name (no hard link reached it);
 *  - every regular file under root has as many names inside root as its
 *    link count (no hard link to anything outside);
 *  - root is still a directory.
 * Verdict: accepted when the whole archive was extracted. */
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "archive-extract.h"
#include "fileio.h"
#include "fuzz-verdict.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

FuzzVerdict fuzz_verdict;

#define VICTIM "victim text\n"

typedef struct Inode {
        dev_t dev;
        ino_t ino;
        nlink_t nlink;
        nlink_t seen;
} Inode;

static Inode *inodes;
static size_t n_inodes;

static _noreturn_ void violation(const char *what, const char *path) {
        fprintf(stderr, "fuzz-archive-extract: confinement violated: %s: %s\n", what, path);
        abort();
}

static int count_links(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        if (type != FTW_F || !S_ISREG(st->st_mode))
                return 0;
        for (size_t i = 0; i < n_inodes; i++)
                if (inodes[i].dev == st->st_dev && inodes[i].ino == st->st_ino) {
                        inodes[i].seen++;
                        return 0;
                }
        inodes = xrealloc(inodes, (n_inodes + 1) * sizeof(Inode));
        inodes[n_inodes++] = (Inode) { .dev = st->st_dev, .ino = st->st_ino, .nlink = st->st_nlink, .seen = 1 };
        return 0;
}

static void check_confined(const char *base) {
        _cleanup_free_ char *root = path_join(base, "root"), *victim = path_join(base, "victim"), *text = NULL;
        _cleanup_closedir_ DIR *d = opendir(base);
        struct dirent *de;
        struct stat st;

        if (!d)
                violation("cannot list", base);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && !streq(de->d_name, "root") &&
                    !streq(de->d_name, "victim"))
                        violation("created outside the root", de->d_name);
        if (lstat(root, &st) < 0 || !S_ISDIR(st.st_mode))
                violation("the root is no longer a directory", root);
        if (lstat(victim, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
                violation("the file next to the root was replaced or linked", victim);
        if (read_full_file(victim, &text, NULL) < 0 || !streq(text, VICTIM))
                violation("the file next to the root was written", victim);

        n_inodes = 0;
        if (nftw(root, count_links, 16, FTW_PHYS) < 0)
                violation("cannot walk", root);
        for (size_t i = 0; i < n_inodes; i++)
                if (inodes[i].seen != inodes[i].nlink)
                        violation("a file in the root has a name outside it", root);
        free(inodes);
        inodes = NULL;
        n_inodes = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Small caps: the fuzzer should find bugs, not fill the disk. */
        static const ArchiveLimits limits = { .max_entry_size = 1024 * 1024, .max_total_size = 4 * 1024 * 1024 };
        _cleanup_(archive_reader_freep) ArchiveReader *r = NULL;
        _cleanup_close_ int mfd = -EBADF, root_fd = -EBADF;
        _cleanup_free_ char *root = NULL, *victim = NULL;
        char base[] = "/tmp/fuzz-archive-XXXXXX";

        log_set_max_level(LOG_EMERG);
        mfd = memfd_create("archive", MFD_CLOEXEC);
        if (mfd < 0 || (size > 0 && write(mfd, data, size) != (ssize_t) size) || lseek(mfd, 0, SEEK_SET) < 0)
                abort();
        if (!mkdtemp(base))
                abort();
        root = path_join(base, "root");
        victim = path_join(base, "victim");
        if (mkdir(root, 0755) < 0 || write_file_atomic(victim, VICTIM, strlen(VICTIM), 0644) < 0)
                abort();
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                abort();

        if (archive_reader_new("fuzz", mfd, 0, &limits, &r) < 0)
                abort();
        fuzz_verdict = archive_extract(r, root_fd) >= 0 ? FUZZ_ACCEPTED : FUZZ_REJECTED;

        check_confined(base);
        (void) rm_rf(base);
        return 0;
}
