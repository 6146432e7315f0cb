/* SPDX-License-Identifier: MIT */
#pragma once

/* The boot arguments of one VM instance and the NFS volumes among them
 * (nfs-volume.h, flake-ctl-firecracker-volume(8)). */

#include "flake.h"

/* The boot arguments of instance ("APP" or "APP@ID") of f: the flake's
 * boot_args, then those of vm.runtime.firecracker.instance.ID; an instance
 * that has an nfs= argument has its volumes instead of the flake's. Every
 * nfs= value is checked: -EBADMSG if one is wrong, with *ret_error saying
 * what (with the file), for the caller to log. */
int vm_instance_boot_args(const Flake *f, const char *instance, char ***ret, char **ret_error);

/* Whether instance mounts any volume (false when its boot arguments do not
 * parse: the runner refuses those anyway). */
bool vm_instance_has_volumes(const Flake *f, const char *instance);

/* The volumes in args, "SERVER:HOST_PATH:GUEST_PATH" each. */
char **vm_volumes(char * const *args);
