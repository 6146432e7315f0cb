/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "fileio.h"
#include "flake-lookup.h"
#include "log.h"
#include "names.h"
#include "paths.h"
#include "spawn.h"
#include "strv.h"
#include "vm-instance.h"

VmInstance *vm_instance_free(VmInstance *i) {
        if (!i)
                return NULL;
        free(i->name);
        free(i->app);
        flake_config_done(&i->config);
        flake_free(i->flake);
        free(i->runtime_dir);
        free(i->lock_path);
        free(i->log_path);
        free(i->pid_path);
        free(i->ready_path);
        free(i->agent_socket);
        free(i->serial_socket);
        free(i->vsock_socket);
        free(i->config_path);
        free(i->overlay_path);
        free(i->control_socket);
        free(i->snapshot_dir);
        free(i);
        return NULL;
}

bool vm_instance_name_is_valid(const char *name) {
        const char *at = strchr(name, '@');
        _cleanup_free_ char *app = xstrndup(name, at ? (size_t) (at - name) : strlen(name));

        if (!flake_app_name_is_valid(app))
                return false;
        if (at && !flake_instance_name_is_valid(at))
                return false;
        return strlen(name) <= FLAKE_APP_NAME_MAX + FLAKE_INSTANCE_NAME_MAX;
}

int vm_flake_vmm(const Flake *f, VmmKind *ret) {
        const char *s = NULL;
        YamlNode *n = yaml_lookup(f->doc->root, "vm.runtime.vmm");

        if (!yaml_node_is_null(n)) {
                if (yaml_node_get_string(n, &s) < 0 || vmm_kind_from_string(s) < 0)
                        return -EBADMSG;
                *ret = vmm_kind_from_string(s);
                return 0;
        }
        /* Firecracker where it is installed, QEMU microvm otherwise. */
        *ret = find_executable("firecracker", NULL) ? VMM_FIRECRACKER : VMM_QEMU;
        return 0;
}

static int pick_vmm(VmInstance *i) {
        if (vm_flake_vmm(i->flake, &i->vmm) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "%s: vm.runtime.vmm must be 'firecracker' or 'qemu'", i->name);
        return 0;
}

int vm_runtime_base(bool user, const char *ids_dir, bool create, char **ret) {
        _cleanup_free_ char *state = NULL;
        int fd;

        if (!user) {
                *ret = path_join(flake_path(FLAKE_PATH_RUNTIME_DIR), "vm");
                return 0;
        }
        fd = flake_instance_state_dir(ids_dir, create, &state);
        if (fd < 0)
                return fd;      /* logged, naming the directory */
        close(fd);
        *ret = path_join(state, "vm");
        return 0;
}

int vm_instance_load(const char *name, VmInstance **ret) {
        _cleanup_(vm_instance_freep) VmInstance *i = NULL;
        _cleanup_free_ char *searched = NULL, *base = NULL;
        FlakeDiagnostics diag = {};
        const char *at;
        int r;

        if (!vm_instance_name_is_valid(name))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: not a valid VM instance name", name);

        i = xmalloc(sizeof(*i));
        *i = (VmInstance) {};
        i->name = xstrdup(name);
        at = strchr(name, '@');
        i->app = xstrndup(name, at ? (size_t) (at - name) : strlen(name));

        r = flake_lookup(i->app, &i->config, &i->flake, &diag, &searched);
        if (r == -ENOENT)
                return log_error_errno(r, "%s: no flake '%s' registered in %s", name, i->app, searched);
        if (r == -EBADMSG) {
                /* One line: the first problem; the rest is at debug level. */
                STRV_FOREACH(e, diag.errors)
                        log_debug("%s", *e);
                if (diag.errors && diag.errors[0])
                        log_error_errno(r, "%s: %s", name, diag.errors[0]);
                else
                        log_error_errno(r, "%s: the flake '%s' cannot be loaded: %m", name, i->app);
                flake_diagnostics_done(&diag);
                return r;
        }
        if (r < 0)
                return r;       /* a configuration file: logged */
        flake_diagnostics_done(&diag);
        if (i->flake->engine != FLAKE_ENGINE_FIRECRACKER)
                return log_error_errno(SYNTHETIC_ERRNO(EMEDIUMTYPE), "%s: '%s' is not a VM flake", name, i->app);
        r = pick_vmm(i);
        if (r < 0)
                return r;

        i->user = i->config.user;
        r = vm_runtime_base(i->user, i->config.firecracker_ids_dir, true, &base);
        if (r < 0)
                return r;
        i->runtime_dir = path_join(base, name);
        i->lock_path = xasprintf("%s" VM_LOCK_SUFFIX, i->runtime_dir);
        i->log_path = xasprintf("%s.log", i->runtime_dir);
        i->pid_path = path_join(i->runtime_dir, VM_PID_FILE);
        i->ready_path = path_join(i->runtime_dir, VM_READY_FILE);
        i->agent_socket = path_join(i->runtime_dir, "agent.sock");
        i->serial_socket = path_join(i->runtime_dir, "serial.sock");
        i->vsock_socket = path_join(i->runtime_dir, "vsock.sock");
        i->config_path = path_join(i->runtime_dir, "config.json");
        i->control_socket = path_join(i->runtime_dir, "control.sock");
        i->snapshot_dir = vm_snapshot_dir(i->user, i->app);
        if (i->flake->overlay_size > 0) {
                _cleanup_free_ char *registry = flake_vm_registry_dir(i->user);

                if (i->flake->resume)
                        i->overlay_path = xasprintf("%s/storage/%s.ext2", registry, name);
                else
                        i->overlay_path = path_join(i->runtime_dir, "overlay.ext2");
        }

        *ret = TAKE_PTR(i);
        return 0;
}

int vm_instance_vmm_binary(const VmInstance *i, char **ret) {
        const char *b;

        if (i->vmm == VMM_FIRECRACKER)
                b = "firecracker";
        else
                b = getenv("FLAKE_QEMU") ?: "qemu-system-x86_64";
        if (!find_executable(b, ret))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "%s: the VMM %s is not installed", i->name, b);
        return 0;
}

void vm_user_done(VmUser *u) {
        free(u->name);
        u->name = NULL;
}

const char *vm_user_name(const char *runas) {
        if (isempty(runas) || streq(runas, "root") || streq(runas, "0"))
                return getenv(VM_SYSTEM_USER_ENV) ?: VM_SYSTEM_USER;
        return runas;
}

int vm_user_resolve(const char *runas, VmUser *ret) {
        const char *name = vm_user_name(runas);
        struct passwd *pw;

        errno = 0;
        pw = getpwnam(name);
        if (!pw)
                return errno > 0 && errno != ENOENT && errno != ESRCH ? -errno : -ENOENT;
        if (pw->pw_uid == 0)
                return -EPERM;
        *ret = (VmUser) { .name = xstrdup(pw->pw_name), .uid = pw->pw_uid, .gid = pw->pw_gid };
        return 0;
}

char *vm_snapshot_dir(bool user, const char *app) {
        _cleanup_free_ char *registry = flake_vm_registry_dir(user);

        return xasprintf("%s/snapshots/%s", registry, app);
}

char *vm_runner_path(void) {
        const char *d = flake_path(FLAKE_PATH_LIBEXECDIR);
        char *p = path_join(d, "flake-vm");

        if (access(p, X_OK) == 0)
                return p;
        free(p);
        /* A build tree keeps it in its own directory. */
        return xasprintf("%s/vm/flake-vm", d);
}

/* lock_is_held() for the instance's lock. */
static int instance_lock_held(const char *runtime_dir) {
        _cleanup_free_ char *lock = xasprintf("%s" VM_LOCK_SUFFIX, runtime_dir);

        return lock_is_held(lock);
}

bool vm_instance_in_use(const char *runtime_dir) {
        return instance_lock_held(runtime_dir) > 0;
}

static bool pid_alive(const char *pid) {
        char *end = NULL;
        long p;

        errno = 0;
        p = strtol(pid, &end, 10);
        if (errno != 0 || end == pid || (*end && *end != '\n') || p <= 0 || p > INT_MAX)
                return false;
        /* EPERM: there, but another user's (the VMM runs as its own). */
        return kill((pid_t) p, 0) == 0 || errno == EPERM;
}

VmState vm_state(const char *runtime_dir, char **ret_pid) {
        _cleanup_free_ char *pid_path = path_join(runtime_dir, VM_PID_FILE), *pid = NULL;
        _cleanup_free_ char *ready = path_join(runtime_dir, VM_READY_FILE);
        int held = instance_lock_held(runtime_dir);
        VmState s;

        /* Whether the runner holds its lock takes opening it (flock). */
        if (held == -EACCES)
                s = VM_STATE_UNKNOWN;
        else if (held <= 0)
                s = VM_STATE_STOPPED;
        else if (read_untrusted_file(pid_path, VM_PID_FILE_MAX, &pid) < 0)  /* the VMM user's file */
                s = VM_STATE_STARTING;
        else if (!pid_alive(pid))
                s = VM_STATE_STOPPED;
        else
                s = access(ready, F_OK) == 0 ? VM_STATE_RUNNING : VM_STATE_STARTING;
        if (ret_pid) {
                if (pid)
                        pid[strcspn(pid, "\n")] = 0;
                *ret_pid = pid && *pid ? TAKE_PTR(pid) : NULL;
        }
        return s;
}

const char *vm_state_to_string(VmState s) {
        static const char * const names[_VM_STATE_MAX] = {
                [VM_STATE_UNKNOWN] = "unknown",
                [VM_STATE_STOPPED] = "stopped",
                [VM_STATE_STARTING] = "starting",
                [VM_STATE_RUNNING] = "running",
        };

        return s >= 0 && s < _VM_STATE_MAX ? names[s] : NULL;
}
