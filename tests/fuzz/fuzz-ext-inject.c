/* SPDX-License-Identifier: MIT */
/* libFuzzer target for what flake-pull does to a downloaded rootfs
 * (helpers/pull/inject.c: libext2fs opens the untrusted ext2/3/4 image and
 * puts sci and the mount points in). In flake-pull this runs in a sandboxed
 * child; here the editor is called directly, so that the fuzzer sees its
 * coverage. Whatever the input: no crash, leak or undefined behaviour, and
 * the result is 0 or a negative errno. The input is the image (in a memfd);
 * sci is a small memfd. Verdict: accepted when sci went in (0). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-verdict.h"
#include "inject.h"
#include "log.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

FuzzVerdict fuzz_verdict;

static int memfd_with(const char *name, const void *data, size_t size) {
        int fd = memfd_create(name, MFD_CLOEXEC);

        if (fd < 0)
                abort();
        if (size > 0 && write(fd, data, size) != (ssize_t) size)
                abort();
        if (lseek(fd, 0, SEEK_SET) < 0)
                abort();
        return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char sci[] = "#!/bin/sh\n# sci\n";
        _cleanup_close_ int image = -EBADF, scifd = -EBADF;
        int r;

        log_set_max_level(LOG_CRIT);    /* errors are expected, one each */
        image = memfd_with("image", data, size);
        scifd = memfd_with("sci", sci, sizeof(sci) - 1);
        r = rootfs_edit(image, scifd, "fuzz", false);
        if (r > 0)
                abort();
        fuzz_verdict = r == 0 ? FUZZ_ACCEPTED : FUZZ_REJECTED;
        return 0;
}
