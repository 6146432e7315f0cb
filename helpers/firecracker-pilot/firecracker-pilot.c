/* SPDX-License-Identifier: MIT */
/* firecracker-pilot: runs a VM flake's program as if it were local
 * (firecracker-pilot(8)). Flakes are symlinks to this binary; the app name
 * is the link's name.
 *
 *   app [@NAME...] [%option...] [ARG...] [-- ARG...]
 *
 * The pilot makes sure the instance's VM runs (flake-vm@.service, or the
 * runner spawned directly), opens a session with the guest agent, relays
 * stdio, window size and signals, and exits with the program's status. */
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-protocol.h"
#include "fileio.h"
#include "launch-pull.h"
#include "log.h"
#include "names.h"
#include "scope.h"
#include "strv.h"
#include "vm-control.h"
#include "vm-instance.h"
#include "yaml-tree.h"

static int close_fd(int fd) {
        if (fd >= 0)
                close(fd);
        return -EBADF;
}

typedef struct Args {
        char *instance;            /* app + every @NAME, as in the original */
        char **argv;               /* for the program */
        bool remove;               /* %remove: stop a resume VM afterwards */
        bool serial;               /* %serial: the original serial-console protocol */
        bool progress;             /* %progress: show what a pull at launch does */
} Args;

static void args_done(Args *a) {
        free(a->instance);
        strv_free(a->argv);
}

static int parse_args(const char *app, int argc, char *argv[], Args *ret) {
        _cleanup_free_ char *instance = xstrdup(app);
        _cleanup_strv_free_ char **rest = NULL;
        bool remove = false, serial = false, progress = false, verbatim = false;

        for (int k = 1; k < argc; k++) {
                const char *a = argv[k];

                if (verbatim) {
                        strv_extend(&rest, a);
                        continue;
                }
                if (streq(a, "--")) {
                        /* Everything after is the program's, even @x and %x
                         * (the original could not pass those at all). */
                        verbatim = true;
                } else if (a[0] == '@') {
                        if (!flake_instance_name_is_valid(a))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "%s: invalid instance name '%s' (letters, digits, @=_-, at most 64)",
                                                       app, a);
                        char *t = xasprintf("%s%s", instance, a);
                        free(instance);
                        instance = t;
                } else if (a[0] == '%') {
                        if (streq(a, "%remove"))
                                remove = true;
                        else if (streq(a, "%serial"))
                                serial = true;
                        else if (streq(a, "%progress"))
                                progress = true;
                        else if (streq(a, "%interactive") || startswith(a, "%port:") ||
                                 streq(a, "%ignore_sync_error") || streq(a, "%ignore_missing_volume_path"))
                                log_debug("%s: pilot option %s has no effect on VM flakes", app, a);
                        else
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: unknown pilot option '%s'",
                                                       app, a);
                } else
                        strv_extend(&rest, a);
        }
        ret->instance = TAKE_PTR(instance);
        ret->argv = TAKE_PTR(rest);
        ret->remove = remove;
        ret->serial = serial;
        ret->progress = progress;
        return 0;
}

/* Serialises starting an instance between concurrent pilots. */
static int lock_start(const VmInstance *i) {
        _cleanup_free_ char *p = xasprintf("%s.start", i->runtime_dir);
        int r;

        r = mkdir_parents(p, 0755);
        if (r < 0)
                return r;
        return lock_file_at(AT_FDCWD, p, O_RDWR | O_CREAT | O_NOFOLLOW, LOCK_EX);
}

/* A flake that says where its image comes from (vm.pull) gets a missing
 * image fetched by the launch (launch-pull.h); present ones cost an access()
 * each, no process. Without vm.pull nothing could fetch it: the runner's
 * one line names the missing file. Returns 0 or a PILOT_EXIT_* status (the
 * reason logged). */
static int ensure_images(const VmInstance *i, bool progress) {
        const Flake *f = i->flake;
        const char *images[] = { f->kernel_image_path, f->rootfs_image_path, f->initrd_path };
        const char *missing = NULL;

        if (yaml_node_is_null(yaml_lookup(f->doc->root, "vm.pull")))
                return 0;
        for (size_t k = 0; k < ELEMENTSOF(images) && !missing; k++)
                if (images[k] && access(images[k], F_OK) < 0 && errno == ENOENT)
                        missing = images[k];
        if (!missing)
                return 0;
        log_info("%s: %s is missing, pulling the image of %s", i->name, missing, i->app);
        if (launch_pull(i->app, i->user, progress) < 0)
                return PILOT_EXIT_FAILURE;
        return 0;
}

static int connect_agent(const VmInstance *i) {
        int fd, r;

        if (i->vmm == VMM_QEMU)
                fd = agent_connect_unix(i->agent_socket);
        else
                fd = agent_connect_vsock_uds(i->vsock_socket, AGENT_VSOCK_PORT, 5000);
        if (fd < 0)
                return log_error_errno(fd, "%s: cannot connect to the guest agent: %m", i->name);
        r = agent_client_handshake(fd, 10000);
        if (r < 0) {
                close(fd);
                return log_error_errno(r, "%s: the guest agent does not answer: %m", i->name);
        }
        return fd;
}

/* Every launch runs in a transient scope, as podman-pilot's do: the
 * session (and, in %serial mode, the VMM, which the runner starts in the
 * foreground) is accounted to the launch and shows in systemctl status. A
 * VM started through flake-vm@ lives in that unit instead; without a bus
 * there is no scope, and the launch goes on. */
static void enter_scope(const VmInstance *i, const char *app) {
        _cleanup_free_ char *unit = NULL;
        int r;

        r = flake_scope_enter(app, i->name, "firecracker", 0, i->user ? FLAKE_SCOPE_USER : 0, &unit);
        if (r == FLAKE_SCOPE_NO_BUS)
                log_debug("No service manager bus, launching %s without a scope", i->name);
        else if (r < 0)
                log_full_errno(LOG_NOTICE, r, "Cannot create a scope for %s, launching without: %m", i->name);
        else
                log_debug("Launching %s in %s", i->name, unit);
}

/* Images whose init only speaks the original protocol: the command goes on
 * the kernel command line (run=...), the VM console is the caller's
 * terminal, the VMM's exit status is ours. The runner does it in the
 * foreground, in our place. Returns only on failure, with our status. */
static int exec_serial(const VmInstance *i, const Args *args) {
        _cleanup_free_ char *runner = vm_runner_path();
        _cleanup_strv_free_ char **a = NULL;
        int r;

        if (vm_is_running(i)) {
                log_error("%s: instance in use, consider an @NAME argument", i->name);
                return PILOT_EXIT_FAILURE;
        }
        r = ensure_images(i, args->progress);
        if (r != 0)
                return r;
        strv_extend(&a, "flake-vm");
        strv_extend(&a, "serial");
        strv_extend(&a, i->name);
        strv_extend(&a, i->flake->target_app_path ?: i->app);
        strv_extend_strv(&a, args->argv);
        execv(runner, a);
        log_error_errno(errno, "%s: cannot run %s: %m", i->name, runner);
        return PILOT_EXIT_VMM;
}

/* Makes sure the instance's VM runs, serialised with concurrent pilots:
 * 0, or our exit status (logged). */
static int ensure_running(VmInstance *i, const Args *args) {
        _cleanup_close_ int start_lock = lock_start(i);
        int r;

        if (start_lock < 0) {
                log_error_errno(start_lock, "%s: cannot lock the instance: %m", i->name);
                return PILOT_EXIT_FAILURE;
        }
        if (vm_is_running(i)) {
                if (!i->flake->resume) {
                        log_error("%s: instance in use by another call, consider an @NAME argument", i->name);
                        return PILOT_EXIT_FAILURE;
                }
                /* A resume VM that is still booting: wait for it. */
                while (access(i->ready_path, F_OK) < 0 && vm_is_running(i))
                        usleep(20 * 1000);
        }
        if (vm_is_running(i))
                return 0;
        /* Only for a VM to start: a running one has its images. */
        r = ensure_images(i, args->progress);
        if (r != 0)
                return r;
        return vm_start(i);
}

/* Runs the program in the guest over fd: its exit status, or ours. */
static int run_session(const VmInstance *i, const Args *args, int fd) {
        _cleanup_strv_free_ char **cmd = NULL, **env = NULL;
        AgentClientFailure failure;
        char msg[256] = {};
        int r, status = 0;

        strv_extend(&cmd, i->flake->target_app_path ?: i->app);
        strv_extend_strv(&cmd, args->argv);
        if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && getenv("TERM"))
                strv_consume(&env, xasprintf("TERM=%s", getenv("TERM")));

        r = agent_client_run(fd, cmd, env, &failure, &status, msg, sizeof(msg));
        if (r < 0) {
                log_error_errno(r, "%s: session failed: %m", i->name);
                return PILOT_EXIT_LOST;
        }
        if (failure == AGENT_CLIENT_LOST) {
                log_error("%s: the VM went away during the session", i->name);
                return PILOT_EXIT_LOST;
        }
        if (failure == AGENT_CLIENT_EXEC_FAILED) {
                log_error("%s: %s", i->name, msg);
                return status == ENOENT ? PILOT_EXIT_NOT_FOUND : PILOT_EXIT_CANNOT_RUN;
        }
        log_debug("%s: %s exited with status %d", i->name, cmd[0], status);
        return status;
}

/* One-shot: sci powers the VM off after the session; waits for the
 * teardown so that the next call finds the instance free. */
static void finish(VmInstance *i, const Args *args, int status) {
        if (i->flake->resume) {
                if (args->remove)
                        vm_stop(i, 0);
                return;
        }
        vm_stop(i, 10000);
        /* The console log of a runner we spawned: kept only when something
         * went wrong. */
        if (status < PILOT_EXIT_MIN && !getenv("PILOT_DEBUG"))
                (void) unlink(i->log_path);
}

int main(int argc, char *argv[]) {
        _cleanup_(vm_instance_freep) VmInstance *i = NULL;
        _cleanup_free_ char *app = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(args_done) Args args = {};
        int r, status;

        log_setup("firecracker-pilot", LOG_TARGET_STDERR | LOG_TARGET_JOURNAL);
        log_set_console_level(LOG_ERR);

        app = path_basename(argv[0]);
        if (streq(app, "firecracker-pilot")) {
                log_error("firecracker-pilot: run it through a flake (a symlink named after the app), see firecracker-pilot(8)");
                return PILOT_EXIT_USAGE;
        }
        if (parse_args(app, argc, argv, &args) < 0)
                return PILOT_EXIT_USAGE;
        log_set_context(app, "firecracker", args.instance);

        if (vm_instance_load(args.instance, &i) < 0)
                return PILOT_EXIT_FAILURE;
        if (i->flake->overlay_size == 0 && (strv_length(i->flake->include_tar) > 0 ||
                                           strv_length(i->flake->include_path) > 0)) {
                log_error("%s: includes need an overlay (overlay_size)", i->name);
                return PILOT_EXIT_FAILURE;
        }
        enter_scope(i, app);
        if (args.serial)
                return exec_serial(i, &args);

        r = ensure_running(i, &args);
        if (r != 0)
                return r;
        fd = connect_agent(i);
        if (fd < 0) {
                if (!i->flake->resume)
                        vm_stop(i, 0);
                return PILOT_EXIT_AGENT;
        }
        status = run_session(i, &args, fd);
        fd = close_fd(fd);
        finish(i, &args, status);
        return status;
}
