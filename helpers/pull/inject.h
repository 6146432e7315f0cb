/* SPDX-License-Identifier: MIT */
#pragma once

/* Making a pulled rootfs flake-ready, as the original does for component
 * pulls with a loop mount: this project's sci as /usr/sbin/sci (replacing
 * the image's own: images made for the original flake-pilot carry its sci,
 * which does not speak our agent protocol) and the mount points
 * /overlayroot, /proc, /sys, /dev, /dev/pts, /mnt. We edit the ext2/3/4
 * image with libext2fs instead: no root, no loop devices, no mount
 * namespace. The image is untrusted: libext2fs parses it in a sandboxed
 * child (sandbox.h) that holds only the image and sci's host copy.
 *
 * Returns -EMEDIUMTYPE for an image that is not ext2/3/4: logged as an
 * error, or as a warning when not_ext_is_warning (KIS pulls go on with the
 * image as it is). Everything else is logged once, where it happens. */

#include <stdbool.h>

/* image: the file to edit; label: what messages call it (its URL). */
int rootfs_make_flake_ready(const char *image, const char *label, const char *sci, bool not_ext_is_warning);

/* The editor itself, on descriptors (what the sandboxed child runs, and
 * what the fuzz target calls): image_fd read-write, sci_fd read-only at its
 * start. Same results as above. */
int rootfs_edit(int image_fd, int sci_fd, const char *label, bool not_ext_is_warning);
