/* SPDX-License-Identifier: MIT */
#pragma once

/* What each file of a KIS archive becomes. Pure functions, unit tested
 * (tests/integration/pull/test-pull-policy.c). What an archive may contain
 * at all is the shared reader's policy (lib/archive/archive-extract.h). */

typedef enum KisPart {
        KIS_ROOTFS,
        KIS_KERNEL,
        KIS_INITRD,
        KIS_CHECKSUM,
        KIS_APPEND,                 /* kernel command line: not kept */
        _KIS_PART_MAX,
} KisPart;

/* By file name, as the original does: ".kernel", ".initrd", ".sha256",
 * ".append"; anything else is the filesystem image. */
KisPart kis_classify(const char *name);
/* The name in the image directory: rootfs, kernel, initrd, checksum. */
const char *kis_part_to_string(KisPart p);
