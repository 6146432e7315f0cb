/* SPDX-License-Identifier: MIT */
#pragma once

#include "vm-instance.h"

/* Smallest overlay worth an ext2 filesystem. */
#define VM_OVERLAY_SIZE_MIN (1024ULL * 1024ULL)

/* Creates the instance's overlay (sparse file, ext2) unless a resume
 * instance already has one. Includes (tar archives, host paths) are staged
 * under rootfs_upper/ — the upper dir sci mounts — and written in by
 * mke2fs -d: no loop mounts, no root needed. Logs on failure and leaves no
 * file behind. */
int vm_overlay_prepare(const VmInstance *i);
