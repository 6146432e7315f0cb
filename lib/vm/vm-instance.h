/* SPDX-License-Identifier: MIT */
#pragma once

/* One VM flake instance ("app" or "app@id"): its flake, its VMM and the
 * files the runner (flake-vm) and the pilot share, all in one private
 * runtime directory:
 *
 *   RUNTIME/vm/INSTANCE/          0700, removed when the VM ends
 *       vmm.pid                   the VMM's pid
 *       runner.pid                the runner's pid (SIGTERM stops the VM)
 *       ready                     exists once the guest agent answered
 *       agent.sock                QEMU: the runner's session socket
 *       serial.sock               QEMU: the agent's virtio-serial port
 *       vsock.sock                Firecracker: the hybrid vsock socket
 *       config.json               Firecracker: its configuration
 *       overlay.ext2              one-shot overlay (discarded)
 *       control.sock              the VMM's control socket, for snapshots:
 *                                 QEMU's QMP, Firecracker's API
 *   RUNTIME/vm/INSTANCE.lock      held by the runner while it runs
 *   RUNTIME/vm/INSTANCE.log       console, when no systemd runs the VM
 *
 * Resume instances keep their overlay in FIRECRACKER_DIR/storage/.
 * One-shot instances of an app share its snapshot (vm-snapshot.h) in
 * FIRECRACKER_DIR/snapshots/APP/.
 *
 * A user's flake (found in the user's flakes dir, flake-lookup.h) keeps all
 * of it in the user's directories: RUNTIME is the user's private state dir
 * ($XDG_RUNTIME_DIR/flakes, or /tmp/flakes/UID), the registry (images and
 * storage/) is ~/.config/flakes/firecracker (flake_vm_registry_dir()). */

#include <sys/types.h>

#include "config.h"
#include "flake.h"
#include "vmm-kind.h"

typedef struct VmInstance {
        char *name;                /* "app" or "app@id" */
        char *app;
        FlakeConfig config;
        Flake *flake;
        VmmKind vmm;
        bool user;                 /* a user's flake (flake-lookup.h) */

        char *runtime_dir;
        char *lock_path;
        char *log_path;
        char *pid_path;
        char *ready_path;
        char *agent_socket;
        char *serial_socket;
        char *vsock_socket;
        char *config_path;
        char *overlay_path;        /* NULL without overlay_size */
        char *control_socket;      /* the VMM's: QEMU's QMP, Firecracker's API */
        char *snapshot_dir;        /* the app's, shared by its instances */
} VmInstance;

VmInstance *vm_instance_free(VmInstance *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(VmInstance *, vm_instance_free);

/* Checks an instance name: a valid app name, then optionally "@id" parts
 * that are valid @NAME arguments. */
bool vm_instance_name_is_valid(const char *name);

/* Loads the instance: validates the name, loads the flake of its app from
 * the system's flakes dir or the caller's own (flake-lookup.h; a firecracker
 * flake), picks the VMM. Logs one line naming
 * the instance on failure: -EINVAL bad name, -ENOENT no such flake,
 * -EBADMSG malformed flake, -EMEDIUMTYPE not a VM flake. */
int vm_instance_load(const char *name, VmInstance **ret);

/* The VMM that runs the flake: vm.runtime.vmm, else Firecracker where it is
 * installed, QEMU microvm otherwise. -EBADMSG for another vm.runtime.vmm. */
int vm_flake_vmm(const Flake *f, VmmKind *ret);

/* The VMM binary: firecracker from PATH, or FLAKE_QEMU / qemu-system-x86_64.
 * -ENOENT (logged) if it is not installed. */
int vm_instance_vmm_binary(const VmInstance *i, char **ret);

/* One-shot snapshots of an app: REGISTRY/snapshots/APP, with these files
 * (helpers/vm/vm-snapshot.h says what they hold). */
char *vm_snapshot_dir(bool user, const char *app);
#define VM_SNAPSHOT_KEY "key"
#define VM_SNAPSHOT_MEMORY "memory"
#define VM_SNAPSHOT_STATE "vmstate"
#define VM_SNAPSHOT_OVERLAY "overlay"
#define VM_SNAPSHOT_LOCK "lock"
#define VM_SNAPSHOT_KVM_FAILED "kvm-failed"

/* The runner, flake-vm: LIBEXECDIR/flake-vm (or LIBEXECDIR/vm/flake-vm in a
 * build tree). */
char *vm_runner_path(void);

/* Who runs the VMM (flake-vm@.service(8), "Privileges"): never root. The
 * flake's vm.runtime.runas user, as the original ran Firecracker as its
 * caller, and whom flake-tap@ gives the TAP; for runas root (or none) the
 * system user VM_SYSTEM_USER (sysusers.d), or FLAKE_VM_USER where an
 * administrator or a test names another one. */
#define VM_SYSTEM_USER "flake-vm"
#define VM_SYSTEM_USER_ENV "FLAKE_VM_USER"

typedef struct VmUser {
        char *name;
        uid_t uid;
        gid_t gid;
} VmUser;

void vm_user_done(VmUser *u);

/* The name of the VMM user for a flake's runas value (NULL: none). */
const char *vm_user_name(const char *runas);

/* The VMM user for a flake's runas value (NULL: none). -ENOENT if that user
 * does not exist, -EPERM if it is root (FLAKE_VM_USER=root); not logged. */
int vm_user_resolve(const char *runas, VmUser *ret);

/* The runtime state of an instance, RUNTIME/vm/INSTANCE (system flakes; a
 * user's in the user's instance state directory): the runner holds
 * INSTANCE.lock while it runs, and that file (next to the runtime dir, in
 * the base dir the runner's starter owns) holds the runner's pid. In the
 * runtime dir, which is the VMM user's and so hostile to everybody else
 * (read it with read_untrusted_file()): VM_PID_FILE names the VMM,
 * VM_READY_FILE marks a VM whose agent answered. */
#define VM_LOCK_SUFFIX ".lock"
#define VM_PID_FILE "vmm.pid"
#define VM_PID_FILE_MAX 32
#define VM_READY_FILE "ready"

/* Where VM instances keep their runtime state: RUNTIME/vm for system
 * flakes; for a user's flakes the user's own private state dir
 * ($XDG_RUNTIME_DIR/flakes, else IDS_DIR/UID; checked, and made with create,
 * as podman-pilot's: flake_instance_state_dir()) + "/vm". -ENOENT: the user
 * has none yet (without create). */
int vm_runtime_base(bool user, const char *ids_dir, bool create, char **ret);

/* Is the instance in use: does a runner run for it (holding its lock)? */
bool vm_instance_in_use(const char *runtime_dir);

typedef enum VmState {
        VM_STATE_UNKNOWN,     /* not ours to see (another user's lock) */
        VM_STATE_STOPPED,     /* no runner, or its VMM is gone */
        VM_STATE_STARTING,    /* the agent has not answered yet */
        VM_STATE_RUNNING,
        _VM_STATE_MAX,
} VmState;

/* What the state files say; the VMM's pid in *ret_pid (NULL if unknown).
 * Reads files only: any user may ask about any instance, and gets
 * VM_STATE_UNKNOWN for one whose lock is not readable to him (the system's
 * instances, for a user who is not root). */
VmState vm_state(const char *runtime_dir, char **ret_pid);
const char *vm_state_to_string(VmState s);

/* In the instance's runtime directory: a warning the runner gave while
 * starting the VM (e.g. the fallback from KVM to TCG), for the pilot that
 * started it to show its caller. */
#define VM_WARNING_FILE "warning"
