/* SPDX-License-Identifier: MIT */
#pragma once

/* The firecracker image registry: <dir>/images/NAME/{rootfs,kernel,initrd,
 * checksum} and the overlay dir <dir>/storage; <dir> is /var/lib/firecracker
 * (FLAKE_FIRECRACKER_DIR, under FLAKE_ROOT) or, for --user callers other
 * than root, ~/.config/flakes/firecracker.
 *
 * A pull writes into a staging directory next to the image directories
 * (".NAME.pull-XXXXXX", same filesystem) and renames it into place under an
 * flock of the images directory, so readers see the old image or the new
 * one, never a mix. Each staging dir is flocked by the pull that owns it:
 * one left behind by a killed pull is removed by the next pull. */

#include <stdbool.h>

typedef struct Registry {
        char *dir;
        char *images;
        int images_fd;
} Registry;

#define REGISTRY_NULL ((Registry) { .images_fd = -EBADF })

/* Creates images/ and storage/ (0755) if needed. */
int registry_open(Registry *reg, bool user);
void registry_done(Registry *reg);
char *registry_image_dir(const Registry *reg, const char *name);

/* -EEXIST (logged) if NAME is there and force is false. */
int registry_check_absent(const Registry *reg, const char *name, bool force);

typedef struct Staging {
        char *name;                 /* relative to the images dir */
        char *path;
        int fd;                     /* the dir, flocked */
} Staging;

#define STAGING_NULL ((Staging) { .fd = -EBADF })

int staging_new(const Registry *reg, const char *image, Staging *ret);
/* Moves the staging dir to images/NAME (replacing an existing one only with
 * force). Afterwards the staging dir is gone, or holds the replaced image
 * until staging_done() removes it. */
int staging_install(const Registry *reg, Staging *s, const char *image, bool force);
/* Removes whatever is left of the staging dir. */
void staging_done(Staging *s);
