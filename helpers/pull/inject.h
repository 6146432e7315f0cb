/* SPDX-License-Identifier: MIT */
#pragma once

/* Making a component rootfs flake-ready, as the original does with a loop
 * mount: /usr/sbin/sci (if missing) and the mount points /overlayroot,
 * /proc, /sys, /dev, /dev/pts, /mnt. We edit the ext2/3/4 image with
 * libext2fs instead: no root, no loop devices, no mount namespace, and it
 * works inside the sandbox of flake-pull@.service. Other filesystems are
 * refused with a clear error. */

int rootfs_make_flake_ready(const char *image, const char *sci);
