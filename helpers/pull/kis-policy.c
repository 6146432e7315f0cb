/* SPDX-License-Identifier: MIT */
#include "kis-policy.h"
#include "macro.h"

static const char * const part_names[_KIS_PART_MAX] = {
        [KIS_ROOTFS] = "rootfs",
        [KIS_KERNEL] = "kernel",
        [KIS_INITRD] = "initrd",
        [KIS_CHECKSUM] = "checksum",
        [KIS_APPEND] = "append",
};

const char *kis_part_to_string(KisPart p) {
        return p >= 0 && p < _KIS_PART_MAX ? part_names[p] : NULL;
}

KisPart kis_classify(const char *name) {
        const char *base = strrchr(name, '/');

        base = base ? base + 1 : name;
        if (endswith(base, ".kernel"))
                return KIS_KERNEL;
        if (endswith(base, ".initrd"))
                return KIS_INITRD;
        if (endswith(base, ".sha256"))
                return KIS_CHECKSUM;
        if (endswith(base, ".append"))
                return KIS_APPEND;
        return KIS_ROOTFS;
}
