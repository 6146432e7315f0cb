/* SPDX-License-Identifier: MIT */
#pragma once

/* Kernel modules, loaded the way the booted system of an image loads them:
 * through the image's own modprobe and its /lib/modules. A distribution's
 * initrd loads what mounting the root needs and nothing more (dracut,
 * initramfs-tools): the drivers of sci's agent port, the vsock transport,
 * overlayfs and the NIC are sci's to load. */

#include <stdbool.h>

/* Virtio device IDs (virtio 1.2, section 5) of the devices sci uses. */
#define SCI_VIRTIO_ID_NET 1
#define SCI_VIRTIO_ID_BLOCK 2
#define SCI_VIRTIO_ID_CONSOLE 3
#define SCI_VIRTIO_ID_VSOCK 19

/* Runs "modprobe -q MODULE" (MODULE may be a modalias) with the image's
 * modprobe (/sbin, /usr/sbin, /bin, /usr/bin). 0 if it succeeded, -ENOENT
 * if there is no modprobe, -EIO if it failed. Logs nothing. */
int sci_modprobe(const char *module);

/* Loads the driver of every virtio device that has none yet (by its
 * modalias, else by the module name of the devices above), as udev's
 * coldplug would. Logs the devices sci needs that stay without a driver. */
void sci_load_virtio_drivers(void);

/* Whether the VM has a virtio device of this ID (bound or not). */
bool sci_virtio_has_device(unsigned id);
