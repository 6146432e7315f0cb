/* SPDX-License-Identifier: MIT */
#pragma once

/* NFS volumes from nfs= on the kernel command line (nfs-volume.h, sci(8),
 * VOLUMES): mounted after the network is up and before the app runs. A
 * volume that cannot be mounted stops the VM: the app must never write into
 * the overlay believing it writes to the host.
 *
 * The parser and the mount options are pure (unit-tested);
 * sci_volumes_mount() acts on the running system. */

#include <stdbool.h>
#include <stddef.h>

#include "nfs-volume.h"

#define SCI_VOLUMES_MAX 16
/* How long one mount may take before sci gives up on the server. */
#define SCI_VOLUME_MOUNT_TIMEOUT_MS 20000U

typedef struct SciVolumes {
        char *buf;                      /* the nfs= value, cut into the entries */
        NfsVolume v[SCI_VOLUMES_MAX];
        size_t n;
} SciVolumes;

/* Parses the value of nfs= into v (replacing an earlier one). 0, -EINVAL
 * (with what is wrong in err), -E2BIG for more than SCI_VOLUMES_MAX
 * volumes, -ENOMEM. */
int sci_volumes_parse(const char *value, SciVolumes *v, char *err, size_t err_size);
void sci_volumes_done(SciVolumes *v);

/* The mount(2) options of the NFSv4 mount of v from clientaddr (the
 * guest's address towards the server): what mount.nfs would pass. */
int sci_volume_options(const NfsVolume *v, const char *minor_version, const char *clientaddr,
                       char *buf, size_t size);

/* Mounts every volume, each within timeout_ms; logs and returns the first
 * failure. */
int sci_volumes_mount(const SciVolumes *v, unsigned timeout_ms);
