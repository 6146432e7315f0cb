/* SPDX-License-Identifier: MIT */
#pragma once

/* Snapshots of one-shot VM flakes (flake-vm@.service(8), "Snapshots"): the
 * first one-shot call of an app saves its VM just after the guest agent
 * answered, before any session; later calls restore it instead of booting.
 *
 * FIRECRACKER_DIR/snapshots/APP/ (vm_snapshot_dir(), names in vm-instance.h), 0700, owned by the VMM user (who alone
 * writes and reads it; anything else there is not loaded):
 *   lock      flock: exclusive while a snapshot is written, shared while
 *             one is being restored
 *   key       what it was made from (vm_snapshot_key()); written last
 *   memory    the VM: QEMU's migration stream, or Firecracker's memory file
 *   vmstate   Firecracker's VM state
 *   overlay   the overlay as it was at the snapshot; each restore gets a
 *             copy (a reflink where the filesystem has them)
 *   kvm-failed  the boot ID of a boot in which KVM could not run the guest
 *             (vm_snapshot_note_kvm()) */

#include <stdbool.h>
#include <sys/types.h>

#include "vm-instance.h"

/* Whether calls of this instance use snapshots: one-shot agent sessions
 * (not %serial, which the caller checks), unless vm.runtime.snapshot is
 * false. */
bool vm_snapshot_wanted(const VmInstance *i);

/* The key: the VMM user, the VMM binary, kernel, initrd, rootfs and
 * includes by identity (device, inode, size, mtime, ctime: a change of
 * content changes them), the overlay size, and the VMM's command line
 * (boot arguments, memory, vCPUs, network, devices) with the instance's own
 * paths left out, so that all instances of the app share it. */
char *vm_snapshot_key(const VmInstance *i, char * const *vmm_argv);

/* As root before handing the instance over, or as the VMM user: makes the
 * app's snapshot dir, owned by uid/gid and private; one made for another
 * user is emptied first. Logs a warning on failure. */
int vm_snapshot_dir_prepare(const VmInstance *i, uid_t uid, gid_t gid);

/* As the VMM user: opens the snapshot dir, refusing it unless it is ours
 * and private (-EPERM); then takes its lock (flock operation). */
int vm_snapshot_open(const VmInstance *i, int lock_operation, int *ret_dir_fd, int *ret_lock_fd);

/* A snapshot made from key: 1 and its memory file opened for reading, 0
 * when there is none or it was made from something else (nothing logged),
 * -EBADMSG when one of its files is not ours and private or unreadable
 * (the caller discards it). */
int vm_snapshot_find(int dir_fd, const char *key, int *ret_memory_fd);

/* A host whose /dev/kvm opens but cannot run the guest (nested KVM): an
 * unpinned call falls back to TCG and saves its snapshot under TCG. So that
 * the next calls find it (and skip the KVM boot that fails), the fallback is
 * noted here with the boot ID: works=false notes it, works=true (a guest ran
 * under KVM) removes the note. As the VMM user; failures are ignored (the
 * next call falls back again). */
void vm_snapshot_note_kvm(const VmInstance *i, bool works);

/* Whether KVM could not run this app's guest earlier in this boot. */
bool vm_snapshot_kvm_failed(const VmInstance *i);

/* Removes the snapshot's files (not the dir nor its lock). */
void vm_snapshot_discard(int dir_fd);

/* Copies the snapshot's overlay to path, the fresh one moved aside to
 * PATH.cold; vm_snapshot_overlay_done() drops it (restored) or puts it back
 * (the call boots cold). */
int vm_snapshot_overlay_restore(int dir_fd, const char *path);
void vm_snapshot_overlay_done(const char *path, bool restored);

/* QEMU: stops the VM over its monitor, saves it (migration to a file) with
 * a copy of its overlay and the key, and lets it go on. Logs a warning on
 * failure and leaves no snapshot. */
int vm_snapshot_save_qemu(const VmInstance *i, int dir_fd, const char *key);

/* Firecracker, over its API socket: pauses the VM, has it write its state
 * and memory (PUT /snapshot/create, Full), copies the overlay, writes the
 * key, resumes. Logs a warning on failure and leaves no snapshot. */
int vm_snapshot_save_firecracker(const VmInstance *i, int dir_fd, const char *key);

/* Firecracker started with only its API socket: PUT /snapshot/load (this
 * instance's vsock socket as vsock_override), PATCH /drives/overlay to this
 * instance's copy, PATCH /vm Resumed. -EIO with Firecracker's reason. */
int vm_snapshot_load_firecracker(const VmInstance *i, char **ret_error);
