/* SPDX-License-Identifier: MIT */
#pragma once

/* What a VMM is told to run for one VM flake instance: Firecracker's
 * config file (JSON, schema FullVmConfiguration of its API) or QEMU microvm's
 * command line. Same images, same agent, same devices:
 *   /dev/vda  rootfs, read-only        /dev/vdb  overlay (optional)
 *   eth0      the instance's TAP       agent     vsock (Firecracker) or the
 *                                                virtio-serial port (QEMU) */

#include <stdbool.h>
#include <stdint.h>

/* QEMU's -sandbox (seccomp) setting for every VM (flake-vm@.service(8)). */
#define VM_QEMU_SANDBOX "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

typedef struct VmSpec {
        const char *kernel;
        const char *initrd;           /* may be NULL */
        const char *rootfs;
        const char *overlay;          /* may be NULL */
        const char *cache_type;       /* overlay drive: "Writeback" (default) or "Unsafe" */
        const char *boot_args;
        uint64_t mem_size_mib;        /* 0: default */
        uint64_t vcpu_count;          /* 0: default */
        const char *tap;              /* may be NULL: no network (or user_net) */
        const char *user_net;         /* QEMU: user-mode network options ("net=...,host=..."); NULL: none */
        const char *mac;              /* guest MAC; NULL: VM_GUEST_MAC */
        const char *vsock_uds;        /* Firecracker */
        const char *serial_socket;    /* QEMU: the agent's virtio-serial port */
        const char *qemu_accel;       /* QEMU: "-accel" value, e.g. "kvm" or "tcg" */
        const char *qmp_socket;       /* QEMU: a monitor socket (QMP); may be NULL */
} VmSpec;

/* Firecracker's ids of the overlay drive and the network interface (its
 * API addresses them by these, e.g. on a snapshot restore). */
#define VM_FIRECRACKER_OVERLAY_DRIVE "overlay"
#define VM_FIRECRACKER_IFACE "eth0"

#define VM_GUEST_CID 3
#define VM_GUEST_MAC "AA:FC:00:00:00:01"
#define VM_DEFAULT_MEM_MIB 4096
#define VM_DEFAULT_VCPUS 2

/* -EINVAL (with a message in *ret_error, if given) for values the VMM would
 * refuse: vcpu_count outside 1..32 or odd above 1, an unknown cache type. */
int vm_spec_validate(const VmSpec *s, char **ret_error);

/* Firecracker --config-file content; -EOPNOTSUPP for a user-mode network. */
int vm_firecracker_config(const VmSpec *s, char **ret_json);

/* argv for qemu-system-x86_64 -M microvm (qemu_binary as argv[0]). */
char **vm_qemu_argv(const VmSpec *s, const char *qemu_binary);
