/* SPDX-License-Identifier: MIT */
#pragma once

/* What a KIS archive may contain, and what each file becomes. Pure
 * functions, unit tested (tests/unit/test-pull-policy.c). */

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

/* Checks an entry path and returns it without "./" prefixes and trailing
 * slashes (a new string, "" for the top directory itself). -EPERM for an
 * absolute path or a ".." component, -EINVAL for an empty one. */
int kis_entry_path_normalize(const char *path, char **ret);

/* Does the link target stay inside the tree, seen from entry (a normalized
 * path)? -EPERM if it is absolute or climbs out. */
int kis_link_target_check(const char *entry, const char *target);
