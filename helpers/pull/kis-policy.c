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

int kis_entry_path_normalize(const char *path, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        const char *p = path;

        if (isempty(path))
                return -EINVAL;
        if (path[0] == '/')
                return -EPERM;

        out = xmalloc(strlen(path) + 1);
        while (*p) {
                size_t l = strcspn(p, "/");

                if (l == 2 && strneq(p, "..", 2))
                        return -EPERM;
                if (l > 0 && !(l == 1 && p[0] == '.')) {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, p, l);
                        n += l;
                }
                p += l;
                while (*p == '/')
                        p++;
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int kis_link_target_check(const char *entry, const char *target) {
        long depth = 0;
        const char *p;

        if (isempty(target))
                return -EINVAL;
        if (target[0] == '/')
                return -EPERM;
        /* The link lives in entry's directory: start at its depth. */
        for (p = entry; (p = strchr(p, '/')); p++)
                depth++;

        for (p = target; *p;) {
                size_t l = strcspn(p, "/");

                if (l == 2 && strneq(p, "..", 2)) {
                        if (--depth < 0)
                                return -EPERM;
                } else if (l > 0 && !(l == 1 && p[0] == '.'))
                        depth++;
                p += l;
                while (*p == '/')
                        p++;
        }
        return 0;
}
