/* SPDX-License-Identifier: MIT */
#pragma once

/* Which VMM runs a VM flake (vm.vmm in its YAML). Apart from the VMM
 * configuration builders (vm-config.h) so that a program that only names
 * the VMM (firecracker-pilot) does not link their JSON library. */

typedef enum VmmKind {
        VMM_FIRECRACKER,
        VMM_QEMU,
        _VMM_MAX,
        _VMM_INVALID = -22,
} VmmKind;

const char *vmm_kind_to_string(VmmKind k);
VmmKind vmm_kind_from_string(const char *s);
