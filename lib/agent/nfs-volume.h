/* SPDX-License-Identifier: MIT */
#pragma once

/* NFS volumes of VM flakes: the nfs= kernel argument that flake-ctl
 * firecracker volume writes into a flake's boot_args and sci mounts
 * (flake-ctl-firecracker-volume(8), sci(8)). As upstream flake-pilot:
 *
 *   nfs=SERVER:HOST_PATH:GUEST_PATH[,SERVER:HOST_PATH:GUEST_PATH]...
 *
 * SERVER is an IPv4 address (sci has no resolver), the guest path is what
 * follows the last ':', the host path (the export) lies in between. Paths
 * are absolute and carry no whitespace, control character or ','.
 *
 * Libc only: sci links it, as the loader and flake-ctl do. */

#include <stdbool.h>
#include <stddef.h>

#define NFS_VOLUME_BOOT_ARG "nfs"
#define NFS_VOLUME_DELIMITER ','
/* The longest IPv4 address in dotted form, with its NUL. */
#define NFS_VOLUME_SERVER_MAX 16

typedef struct NfsVolume {
        char server[NFS_VOLUME_SERVER_MAX];
        const char *host_path;          /* into the parsed buffer */
        const char *guest_path;         /* into the parsed buffer */
} NfsVolume;

/* Why path cannot be the host (guest false) or guest (guest true) path of a
 * volume, or NULL if it can. The guest path must not be "/" nor lie under
 * /mnt, where sci keeps the image's own root after the overlay pivot. */
const char *nfs_volume_path_problem(const char *path, bool guest);

/* Parses one SERVER:HOST_PATH:GUEST_PATH entry, cutting entry in place (the
 * paths of ret point into it). 0, or -EINVAL with *ret_part ("server",
 * "host path", "guest path" or NULL for the whole entry) and *ret_problem
 * saying what is wrong. */
int nfs_volume_parse(char *entry, NfsVolume *ret, const char **ret_part, const char **ret_problem);

/* Checks a whole nfs= value (without "nfs="): NULL if every entry parses,
 * else what is wrong with the first that does not, written to buf. */
const char *nfs_volume_list_problem(const char *value, char *buf, size_t size);
