/* SPDX-License-Identifier: MIT */
#include "strv.h"
#include "vmm-kind.h"

static const char * const vmm_names[_VMM_MAX] = {
        [VMM_FIRECRACKER] = "firecracker",
        [VMM_QEMU] = "qemu",
};

const char *vmm_kind_to_string(VmmKind k) {
        return k >= 0 && k < _VMM_MAX ? vmm_names[k] : NULL;
}

VmmKind vmm_kind_from_string(const char *s) {
        for (int i = 0; s && i < _VMM_MAX; i++)
                if (streq(s, vmm_names[i]))
                        return (VmmKind) i;
        return _VMM_INVALID;
}
