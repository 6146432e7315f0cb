/* SPDX-License-Identifier: MIT */
/* podman-pilot: runs the program of a registered container flake. It is
 * called through a symlink named after the app (/usr/bin/x ->
 * podman-pilot); the registration is <flakes_dir>/<x>.yaml. */
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "config.h"
#include "fileio.h"
#include "launch-pull.h"
#include "flake.h"
#include "flake-lookup.h"
#include "log.h"
#include "names.h"
#include "pilot.h"
#include "progress.h"
#include "scope.h"
#include "strv.h"

typedef struct Pilot {
        const char *name;
        char *instance;             /* name + @suffix */
        Flake *flake;
        FlakeConfig config;
        PodmanContext podman;
        PilotArgs args;
        char *meta_dir;
        char *cid_file;
        bool tty;
        /* The launch runs in a delegated scope that podman may split:
         * rootful podman, which only root runs (the launch service for
         * other callers), in a scope of the system manager. */
        bool split_cgroups;
        Progress *progress;         /* %progress on a terminal, until the app starts */
        /* Run by the launch service for caller_uid (privileged.c). */
        bool served;
        uid_t caller_uid;
        bool image_missing;         /* podman failed for want of an image: pull, launch again */
} Pilot;

static void pilot_done(Pilot *p) {
        progress_finish(p->progress, false);
        free(p->instance);
        flake_free(p->flake);
        flake_config_done(&p->config);
        podman_context_done(&p->podman);
        pilot_args_done(&p->args);
        free(p->meta_dir);
        free(p->cid_file);
}

/* What root runs for somebody else is decided by root alone: the
 * registration, its drop-in directory and the directory holding them must
 * be root's and writable by nobody else. */
static int check_root_owned(const char *path, bool dir) {
        struct stat st;

        if (lstat(path, &st) < 0) {
                if (errno == ENOENT && dir)
                        return 0;
                return log_error_errno(errno, "Cannot access %s: %m", path);
        }
        if ((dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) || st.st_uid != 0 ||
            (st.st_mode & (S_IWGRP | S_IWOTH)))
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "%s is not root's own (owned by uid %u, mode %04o): refusing to launch "
                                       "it as root for another user", path, (unsigned) st.st_uid,
                                       (unsigned) (st.st_mode & 07777));
        return 0;
}

static int check_served_registration(const Pilot *p) {
        _cleanup_free_ char *yaml = xasprintf("%s/%s.yaml", p->config.flakes_dir, p->name);
        _cleanup_free_ char *dropins = xasprintf("%s/%s.d", p->config.flakes_dir, p->name);
        int r;

        r = check_root_owned(p->config.flakes_dir, true);
        if (r >= 0)
                r = check_root_owned(yaml, false);
        if (r >= 0)
                r = check_root_owned(dropins, true);
        if (r < 0)
                return r;
        if (!streq_ptr(p->flake->runas, "root"))
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "%s is not a runas-root flake: the launch service runs only those "
                                       "(call it directly)", p->name);
        return 0;
}

static int load_flake(Pilot *p) {
        _cleanup_free_ char *searched = NULL;
        FlakeDiagnostics diag = {};
        int r;

        /* The system's registration, then the user's own (flake-lookup.h). */
        r = flake_lookup(p->name, &p->config, &p->flake, &diag, &searched);
        if (r < 0 && r != -ENOENT && r != -EBADMSG)
                return r;       /* a configuration file: logged */
        if (r < 0 && r != -ENOENT) {
                /* One line for the user: the first problem, and where to
                 * find them all. */
                size_t n = strv_length(diag.errors);
                _cleanup_free_ char *more = n > 1 ? xasprintf(" (and %zu more; see 'flake-ctl verify %s')", n - 1, p->name)
                                                  : NULL;

                if (n > 0)
                        r = log_error_errno(r, "Broken flake registration: %s%s", diag.errors[0], strempty(more));
                else
                        r = log_error_errno(r, "Broken flake registration %s/%s.yaml", p->config.flakes_dir, p->name);
                flake_diagnostics_done(&diag);
                return r;
        }
        flake_diagnostics_log(&diag);
        flake_diagnostics_done(&diag);
        if (r == -ENOENT)
                return log_error_errno(r, "No flake registration found for '%s' in %s", p->name, searched);
        if (p->flake->engine != FLAKE_ENGINE_PODMAN)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s/%s.yaml is not a container flake",
                                       p->config.flakes_dir, p->name);
        if (isempty(p->flake->image))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s/%s.yaml: container.name is not set",
                                       p->config.flakes_dir, p->name);
        if (p->served)
                return check_served_registration(p);
        return 0;
}

static const char *target(const Pilot *p) {
        return isempty(p->flake->target_app_path) ? p->name : p->flake->target_app_path;
}

static bool keeps_container(const Pilot *p) {
        return p->flake->resume || p->flake->attach;
}

/* The image podman creates the container from: the base for delta flakes. */
static const char *image(const Pilot *p) {
        return p->flake->base_container ?: p->flake->image;
}

static void append_tty(const Pilot *p, char ***args) {
        strv_extend(args, "--interactive");
        if (p->tty)
                strv_extend(args, "--tty");
}

/* Options shared by run and create: cid file (create only: a one-shot
 * "podman run --rm" needs none), stdio, the store policy and the
 * registration's own options (which come later and so win). */
static int append_create_options(const Pilot *p, char ***args, bool interactive) {
        _cleanup_strv_free_ char **opts = NULL;
        int r;

        if (p->cid_file) {
                strv_extend(args, "--cidfile");
                strv_extend(args, p->cid_file);
        }
        /* The app must not be PID 1 of its PID namespace: there, signals it
         * has no handler for (SIGTERM from kill or from "systemctl stop" of
         * the launch's scope) are ignored, and the launch went on until the
         * app ended by itself. catatonit forwards them. */
        strv_extend(args, "--init");
        /* In the launch's delegated scope, podman and conmon go to
         * <scope>/runtime and the app to <scope>/libpod-payload-<id>, what
         * quadlet does under Delegate=yes: the app is accounted to the
         * launch, and stopping the scope ends it. Otherwise podman would
         * move it to machine.slice or libpod_parent, outside. */
        if (p->split_cgroups)
                strv_extend(args, "--cgroups=split");
        if (interactive)
                append_tty(p, args);
        /* Never pull on the hot path; a registration that wants it says
         * --pull=newer (or missing) in runtime.podman. */
        strv_extend(args, "--pull=never");
        r = pilot_podman_options(p->flake, &p->args, &opts);
        if (r < 0)
                return r;
        strv_extend_strv(args, opts);
        return 0;
}

/* After podman failed (never on the hot path): is an image of the flake
 * (app image, base, layers) missing from the flake store? Then the launch
 * pulls it and tries once more (pilot_main()). */
static bool images_missing(Pilot *p) {
        const char *images[] = { p->flake->image, p->flake->base_container };

        for (size_t k = 0; k < ELEMENTSOF(images); k++)
                if (images[k] && podman_waitl(&p->podman, SPAWN_NULL_STDOUT | SPAWN_NULL_STDERR, NULL,
                                              "image", "exists", images[k], NULL) == 1)
                        return (p->image_missing = true);
        STRV_FOREACH(l, p->flake->layers)
                if (podman_waitl(&p->podman, SPAWN_NULL_STDOUT | SPAWN_NULL_STDERR, NULL,
                                 "image", "exists", *l, NULL) == 1)
                        return (p->image_missing = true);
        return false;
}

static int explain_failure(Pilot *p, int status) {
        if (status != PODMAN_EXIT_ERROR)
                return status;
        /* podman's own error is already on stderr; a missing image is
         * pulled by pilot_main(). */
        (void) images_missing(p);
        return PILOT_EXIT_FAILURE;
}

/* The app is about to start: the %progress spinner ends here, before podman
 * writes anything to the terminal. */
static void launching(Pilot *p) {
        progress_finish(p->progress, true);
        p->progress = NULL;
}

static void remove_container(Pilot *p, const char *cid) {
        (void) podman_waitl(&p->podman, SPAWN_NULL_STDOUT, NULL, "rm", "--force", "--time", "0", cid, NULL);
        (void) unlink(p->cid_file);
}

/* A name for a one-shot container, unless runtime.podman gives one:
 * flake-<instance>-<pid>, in the characters podman accepts. */
static char *oneshot_name(const Pilot *p, char * const *args) {
        char *n;

        STRV_FOREACH(a, args)
                if (streq(*a, "--name") || startswith(*a, "--name="))
                        return NULL;
        n = xasprintf("flake-%s-%d", p->instance, (int) getpid());
        for (char *c = n; *c; c++)
                if (!(isalnum((unsigned char) *c) || strchr("_.-", *c)))
                        *c = '_';
        return n;
}

/* One-shot without provisioning: one podman process with what a user would
 * type (podman run --rm --init -i [-t] ... IMAGE ARGS), nothing else. */
static int run_oneshot(Pilot *p) {
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ char *name = NULL;
        int r;

        strv_extend(&args, "run");
        strv_extend(&args, "--rm");
        r = append_create_options(p, &args, true);
        if (r < 0)
                return PILOT_EXIT_FAILURE;
        name = oneshot_name(p, args);
        if (name) {
                strv_extend(&args, "--name");
                strv_extend(&args, name);
        }
        if (!streq(target(p), "/")) {
                strv_extend(&args, "--entrypoint");
                strv_extend(&args, target(p));
        }
        strv_extend(&args, image(p));
        strv_extend_strv(&args, p->args.app_args);

        launching(p);
        r = launch_podman(&p->podman, args, 0, NULL);
        if (r < 0)
                return (void) log_error_errno(r, "Cannot run podman: %m"), PILOT_EXIT_FAILURE;
        /* "systemctl stop" of the launch's scope signals every process in it
         * at once, conmon and podman's own --rm cleanup included: remove the
         * container ourselves then (only then: no extra podman call on the
         * normal path). */
        if (name && launch_termination_signal() != 0) {
                log_debug("Stopped by signal %d: removing container %s", launch_termination_signal(), name);
                (void) podman_waitl(&p->podman, SPAWN_NULL_STDOUT | SPAWN_NULL_STDERR, NULL,
                                    "rm", "--force", "--ignore", "--time", "0", name, NULL);
        }
        return r == PODMAN_EXIT_ERROR ? explain_failure(p, r) : r;
}

/* podman's message when a --name given in runtime.podman belongs to a
 * container we lost track of (the cid file went away, e.g. with /tmp at a
 * reboot): "... the container name "x" is already in use by <id>. ..." */
static char *stale_container_id(const char *podman_output) {
        const char *s = podman_output ? strstr(podman_output, "is already in use by ") : NULL;
        size_t n;

        if (!s)
                return NULL;
        s += strlen("is already in use by ");
        s += strspn(s, "\"");
        n = strspn(s, "0123456789abcdef");
        return n >= 12 ? xstrndup(s, n) : NULL;
}

/* podman create; its messages are kept and shown only on failure. Returns
 * podman's status and, on failure, its output. */
static int podman_create(Pilot *p, char * const *args, char **ret_output) {
        _cleanup_free_ char *out = NULL;
        int r;

        r = podman_wait(&p->podman, args, SPAWN_STDERR_TO_STDOUT, &out);
        if (r < 0)
                return log_error_errno(r, "Cannot run podman: %m");
        if (r != 0)
                *ret_output = TAKE_PTR(out);
        return r;
}

/* Creates (and provisions) the container of this instance; returns its ID. */
static int create_container(Pilot *p, char **ret_cid) {
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ char *cid = NULL, *out = NULL, *stale = NULL;
        int r;

        strv_extend(&args, "create");
        if (!keeps_container(p))
                strv_extend(&args, "--rm");
        r = append_create_options(p, &args, !p->flake->resume);
        if (r < 0)
                return r;
        if (p->flake->resume) {
                if (streq(target(p), "/"))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "Unknown command for resume mode, specify a target_app_path");
                /* The container runs flake-agent, and each call is a
                 * session with it (agent.c); without it, the container
                 * idles and each call is a podman exec. */
                r = p->flake->agent ? agent_create_options(p->meta_dir, p->instance, image(p), &args) : 0;
                if (r < 0)
                        return r;
                if (r == 0) {
                        (void) agent_remove_dir(p->meta_dir, p->instance);
                        strv_extend(&args, "--entrypoint");
                        strv_extend(&args, "sleep");
                        strv_extend(&args, image(p));
                        strv_extend(&args, "4294967295d");
                }
        } else {
                if (!streq(target(p), "/")) {
                        strv_extend(&args, "--entrypoint");
                        strv_extend(&args, target(p));
                }
                strv_extend(&args, image(p));
                strv_extend_strv(&args, p->args.app_args);
        }

        log_info("Creating container for %s from %s", p->instance, image(p));
        (void) unlink(p->cid_file);     /* podman refuses to overwrite one */
        r = podman_create(p, args, &out);
        /* Recover from a container left over by a lost cid file, as the
         * original does: remove it and try once more. Only for kept
         * containers: we hold their instance lock, so it cannot be one a
         * concurrent launch has just made. */
        if (r > 0 && keeps_container(p) && (stale = stale_container_id(out))) {
                log_notice("Removing the stale container %.12s that holds the name of %s", stale, p->instance);
                (void) podman_waitl(&p->podman, SPAWN_NULL_STDOUT, NULL, "rm", "--force", "--time", "0",
                                    stale, NULL);
                free(out);
                out = NULL;
                (void) unlink(p->cid_file);
                r = podman_create(p, args, &out);
        }
        if (r != 0) {
                (void) unlink(p->cid_file);
                /* A missing image is pulled and the launch tried again:
                 * podman's complaint about it is no news then. */
                if (r == PODMAN_EXIT_ERROR && images_missing(p))
                        return -ENOMEDIUM;
                if (out)
                        fputs(out, stderr);
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Creating the container of %s failed", p->instance);
        }
        r = instance_read_cid(p->cid_file, &cid);
        if (r < 0)
                return log_error_errno(r, "podman did not write %s", p->cid_file);

        if (provision_needed(p->flake)) {
                r = provision_container(&p->podman, p->flake, &p->args, cid);
                if (r < 0) {
                        remove_container(p, cid);
                        return log_error_errno(r, "Provisioning %s failed, container removed", p->instance);
                }
        }
        *ret_cid = TAKE_PTR(cid);
        return 0;
}

/* 1: running, 0: exists but stopped, -ENOENT: gone. One podman call. */
static int container_state(Pilot *p, const char *cid) {
        _cleanup_free_ char *out = NULL;
        int r;

        r = podman_waitl(&p->podman, SPAWN_NULL_STDERR, &out, "container", "inspect",
                         "--format", "{{.State.Running}}", cid, NULL);
        if (r != 0)
                return -ENOENT;
        return streq(podman_chomp(out), "true");
}

/* Was the cid file written (or touched at a start) since the last boot?
 * Containers do not survive a reboot, so an older one names a stopped or
 * gone container, and the resume fast path is not worth trying. Costs a
 * stat(), no podman process. */
static bool cid_file_from_this_boot(const char *cid_file) {
        struct timespec now, up;
        struct stat st;

        if (stat(cid_file, &st) < 0)
                return false;
        if (clock_gettime(CLOCK_REALTIME, &now) < 0 || clock_gettime(CLOCK_BOOTTIME, &up) < 0)
                return true;
        return st.st_mtim.tv_sec >= now.tv_sec - up.tv_sec;
}

/* podman start of a resumed container. It outlives this launch, so with
 * split cgroups it gets a scope of its own, flake-<instance>-container.scope
 * (systemctl status/stop reach it there): a child moves itself into that
 * scope and runs podman start, whose conmon and app then stay in it. Where
 * that scope cannot be made, the container starts in the launch's scope. */
static int start_kept_container(Pilot *p, const char *cid) {
        _cleanup_free_ char *unit = NULL;
        int status, r;
        pid_t pid;

        if (!p->split_cgroups)
                return podman_waitl(&p->podman, SPAWN_NULL_STDOUT, NULL, "start", cid, NULL);

        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "Cannot fork: %m");
        if (pid == 0) {
                r = flake_scope_enter_container(p->instance, "podman", 0, FLAKE_SCOPE_DELEGATE, &unit);
                if (r < 0)
                        log_full_errno(LOG_NOTICE, r, "Cannot create the container scope of %s, "
                                       "starting it in the launch's scope: %m", p->instance);
                else
                        log_debug("Starting the container of %s in %s", p->instance, unit);
                r = podman_waitl(&p->podman, SPAWN_NULL_STDOUT, NULL, "start", cid, NULL);
                _exit(r < 0 ? PODMAN_EXIT_ERROR : r);
        }
        if (waitpid(pid, &status, 0) < 0)
                return log_error_errno(errno, "Cannot wait for podman start: %m");
        return WIFEXITED(status) ? WEXITSTATUS(status) : PODMAN_EXIT_ERROR;
}

/* resume and attach: look up or create the instance's container under the
 * instance lock, so concurrent launches end up with exactly one. */
static int prepare_kept_container(Pilot *p, char **ret_cid, bool *ret_running) {
        _cleanup_close_ int lock = -EBADF;
        _cleanup_free_ char *cid = NULL;
        int r, state = -ENOENT;

        lock = instance_lock(p->meta_dir, p->instance);
        if (lock < 0)
                return lock;

        r = instance_read_cid(p->cid_file, &cid);
        if (r < 0 && r != -ENOENT)
                return r;
        if (cid) {
                state = container_state(p, cid);
                if (state == -ENOENT) {
                        /* The lazy GC of cid files: this one is stale. */
                        log_notice("Container %.12s of %s is gone, creating a new one", cid, p->instance);
                        (void) unlink(p->cid_file);
                        free(cid);
                        cid = NULL;
                }
        }
        if (!cid) {
                r = create_container(p, &cid);
                if (r < 0)
                        return r;
                state = 0;
        }
        if (p->flake->resume && state == 0) {
                r = start_kept_container(p, cid);
                if (r != 0) {
                        remove_container(p, cid);
                        return log_error_errno(SYNTHETIC_ERRNO(EIO), "Cannot start the container of %s",
                                               p->instance);
                }
                /* Marks the cid file as valid for this boot (the fast path). */
                (void) utimensat(AT_FDCWD, p->cid_file, NULL, 0);
                state = 1;
        }
        *ret_running = state == 1;
        *ret_cid = TAKE_PTR(cid);
        return 0;
}

static void remove_if_asked(Pilot *p, const char *cid) {
        if (!p->args.remove)
                return;
        log_info("Removing the container of %s (%%remove)", p->instance);
        remove_container(p, cid);
        (void) agent_remove_dir(p->meta_dir, p->instance);
}

/* One call through the container's agent (agent.c). */
static AgentCall call_agent(Pilot *p, bool wait, int *ret_status) {
        _cleanup_strv_free_ char **argv = NULL;

        if (!p->flake->agent)
                return AGENT_CALL_NONE;
        strv_extend(&argv, target(p));
        strv_extend_strv(&argv, p->args.app_args);
        launching(p);
        return agent_call(p->meta_dir, p->instance, argv, p->tty, wait, ret_status);
}

/* The container went away during the call: say so once. The next launch
 * finds it stopped or gone and starts or recreates it (run_resume()). */
static int call_lost(Pilot *p) {
        log_error("The container of %s stopped during the call", p->instance);
        return PILOT_EXIT_FAILURE;
}

/* One podman exec of the target in the resumed container. The session
 * variable lets the pilot find the exec'd process for signals (launch.c). */
static int exec_in(Pilot *p, const char *cid) {
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ char *session = launch_session_token();
        _cleanup_free_ char *env = xasprintf("FLAKE_SESSION=%s", session);
        SpawnFlags flags = 0;

        strv_extend(&args, "exec");
        append_tty(p, &args);
        strv_extend(&args, "--env");
        strv_extend(&args, env);
        strv_extend(&args, cid);
        strv_extend(&args, target(p));
        strv_extend_strv(&args, p->args.app_args);
        /* Without a terminal on stdin podman need not be in the foreground
         * process group: there Ctrl-C reaches only the pilot, which passes
         * it to the app, and podman exec stays to return the app's status
         * (it would exit on the signal itself and leave the app running). */
        if (!p->tty && !isatty(STDIN_FILENO))
                flags |= SPAWN_NEW_PGRP;
        launching(p);
        return launch_podman(&p->podman, args, flags, session);
}

/* podman exec's own failures: 125 for a container that is gone, 255 for
 * one that is stopped ("container state improper"). An app may exit with
 * these as well; the state check that follows tells them apart. */
static bool podman_exec_failed(int status) {
        return status == PODMAN_EXIT_ERROR || status == 255;
}

/* One call into the container: through its agent, or with podman exec
 * where it has none (or its agent does not answer). Unless the container
 * has just been started (then the agent gets time to come up), a call that
 * could not reach it sets *ret_gone when one podman inspect says it is not
 * running: the caller starts or recreates it and calls again. */
static int call_in(Pilot *p, const char *cid, bool just_started, bool *ret_gone) {
        AgentCall how;
        int r;

        *ret_gone = false;
        how = call_agent(p, just_started, &r);
        if (how == AGENT_CALL_DONE)
                return r;
        if (how == AGENT_CALL_LOST)
                return call_lost(p);
        if (how == AGENT_CALL_DOWN && !just_started) {
                if (container_state(p, cid) != 1) {
                        *ret_gone = true;
                        return 0;
                }
                log_debug("The container of %s runs, its agent does not answer: podman exec", p->instance);
        }
        r = exec_in(p, cid);
        /* podman exec's own failure, or the app's status? */
        if (how == AGENT_CALL_NONE && !just_started && podman_exec_failed(r) && container_state(p, cid) != 1)
                *ret_gone = true;
        return r;
}

/* resume: the hot path is one session with the container's agent (or, in a
 * container without one, exactly one podman exec). The container is assumed
 * to run when its cid file is from this boot; only when the call cannot
 * reach it does one podman inspect tell a vanished or stopped container
 * (recreated or restarted under the lock, then called again) from a running
 * one (call_in()). */
static int run_resume(Pilot *p) {
        _cleanup_free_ char *cid = NULL;
        bool running = false, gone = false;
        int r;

        if (instance_read_cid(p->cid_file, &cid) >= 0 && cid_file_from_this_boot(p->cid_file)) {
                r = call_in(p, cid, false, &gone);
                if (!gone)
                        goto done;
                /* podman's error about it may be on stderr already: say what happens. */
                log_warning("The container of %s is no longer running, starting it again", p->instance);
        }
        free(cid);
        cid = NULL;
        r = prepare_kept_container(p, &cid, &running);
        if (r < 0)
                return PILOT_EXIT_FAILURE;
        r = call_in(p, cid, true, &gone);
done:
        remove_if_asked(p, cid);
        if (r < 0)
                return (void) log_error_errno(r, "Cannot run podman: %m"), PILOT_EXIT_FAILURE;
        return r;
}

static int run_attach(Pilot *p) {
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ char *cid = NULL;
        bool running = false;
        int r;

        r = prepare_kept_container(p, &cid, &running);
        if (r < 0)
                return PILOT_EXIT_FAILURE;

        if (running) {
                strv_extend(&args, "attach");
                strv_extend(&args, cid);
        } else {
                strv_extend(&args, "start");
                strv_extend(&args, "--attach");
                strv_extend(&args, "--interactive");
                strv_extend(&args, cid);
        }
        launching(p);
        r = launch_podman(&p->podman, args, 0, NULL);
        remove_if_asked(p, cid);
        if (r < 0)
                return (void) log_error_errno(r, "Cannot run podman: %m"), PILOT_EXIT_FAILURE;
        return r;
}

/* One-shot with provisioning: create, provision, start --attach; the
 * container was created with --rm, podman removes it at exit. */
static int run_provisioned(Pilot *p) {
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ char *cid = NULL;
        int r;

        r = create_container(p, &cid);
        if (r < 0)
                return PILOT_EXIT_FAILURE;
        strv_extend(&args, "start");
        strv_extend(&args, "--attach");
        strv_extend(&args, "--interactive");
        strv_extend(&args, cid);
        launching(p);
        r = launch_podman(&p->podman, args, 0, NULL);
        (void) unlink(p->cid_file);
        if (r < 0)
                return (void) log_error_errno(r, "Cannot run podman: %m"), PILOT_EXIT_FAILURE;
        return r;
}

/* Only kept and provisioned containers have cid files: a plain one-shot is
 * one "podman run --rm" and leaves nothing to track. */
static int setup_cid_file(Pilot *p) {
        _cleanup_free_ char *files_instance = NULL;
        int r;

        r = p->served ? instance_served_meta_dir(p->caller_uid, &p->meta_dir)
                      : instance_meta_dir(p->config.podman_ids_dir, &p->meta_dir);
        if (r < 0)
                return r;
        if (keeps_container(p))
                files_instance = xstrdup(p->instance);
        else {
                /* Every provisioned one-shot gets its own container and cid file. */
                uint32_t rnd = 0;
                (void) !getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
                files_instance = xasprintf("%s@%08x", p->instance, rnd ^ (uint32_t) getpid());
        }
        p->cid_file = xasprintf("%s/%s.cid", p->meta_dir, files_instance);
        return 0;
}

static int launch(Pilot *p) {
        if (p->flake->resume)
                return run_resume(p);
        if (p->flake->attach)
                return run_attach(p);
        if (provision_needed(p->flake))
                return run_provisioned(p);
        return run_oneshot(p);
}

/* Everything after the arguments: the registration, then the launch. */
static int pilot_run(Pilot *p) {
        _cleanup_free_ char *unit = NULL;
        int r;

        p->instance = xasprintf("%s%s", p->name, strempty(p->args.instance_suffix));
        log_set_context(p->name, "podman", p->instance);

        if (load_flake(p) < 0)
                return PILOT_EXIT_FAILURE;

        if (streq_ptr(p->flake->runas, "root") && geteuid() != 0) {
                /* Only a system registration can be run as root for us; a
                 * user's own flake is his to run, as himself. */
                if (p->config.user) {
                        log_error("%s/%s.yaml: runas: root is for system flakes; a user's flake runs as its "
                                  "user", p->config.flakes_dir, p->name);
                        return PILOT_EXIT_FAILURE;
                }
                log_debug("%s runs as root: asking the launch service", p->instance);
                return launch_client(p->name, &p->args);
        }

        if (p->args.progress)
                p->progress = progress_start("Launching flake");

        r = podman_context_init(&p->podman, p->config.podman_storage_conf, p->flake->runas);
        if (r == -ENOENT) {
                log_error("podman is not installed (needed by the container flake %s)", p->name);
                return PILOT_EXIT_NOT_FOUND;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot run podman for %s: %m", p->name);
                return PILOT_EXIT_FAILURE;
        }

        r = flake_scope_enter(p->name, p->instance, "podman", 0, FLAKE_SCOPE_DELEGATE, &unit);
        if (r == FLAKE_SCOPE_NO_BUS)
                log_debug("No service manager bus, launching %s without a scope", p->instance);
        else if (r < 0)
                log_full_errno(LOG_NOTICE, r, "Cannot create a scope for %s, launching without: %m", p->instance);
        else {
                log_debug("Launching %s in %s", p->instance, unit);
                /* Rootful podman is always run by root here (no sudo). */
                p->split_cgroups = p->podman.rootful;
        }

        if ((keeps_container(p) || provision_needed(p->flake)) && setup_cid_file(p) < 0)
                return PILOT_EXIT_FAILURE;

        /* A terminal is requested when stdin and stdout are terminals;
         * %interactive asks for one as soon as stdin is a terminal, for
         * interactive programs whose output is redirected. */
        p->tty = isatty(STDIN_FILENO) && (p->args.interactive || isatty(STDOUT_FILENO));
        if (p->served)
                log_info("Launching %s for uid %u (image %s, %s%s)", p->instance, (unsigned) p->caller_uid,
                         image(p), p->flake->resume ? "resume" : p->flake->attach ? "attach" : "one-shot",
                         p->tty ? ", tty" : "");
        else
                log_info("Launching %s (image %s, %s%s)", p->instance, image(p),
                         p->flake->resume ? "resume" : p->flake->attach ? "attach" : "one-shot",
                         p->tty ? ", tty" : "");

        r = launch(p);
        if (p->image_missing) {
                /* "Missing containers will be pulled automatically at
                 * launch" (the original README): only now that podman said
                 * so, then once more (launch-pull.h). */
                log_info("An image of %s is not in the flake image store, pulling it", p->instance);
                if (launch_pull(p->name, p->config.user, p->args.progress) < 0)
                        return PILOT_EXIT_FAILURE;
                p->image_missing = false;
                r = launch(p);
        }

        log_info("%s exited with status %d", p->instance, r);
        return r;
}

static int pilot_main(int argc, char *argv[]) {
        _cleanup_(pilot_done) Pilot p = {};
        _cleanup_free_ char *name = NULL;
        int r;

        if (argc < 1 || !argv[0])
                return PILOT_EXIT_USAGE;
        name = path_basename(argv[0]);
        p.name = name;
        if (streq(name, "podman-pilot") || !flake_app_name_is_valid(name)) {
                log_error("podman-pilot runs registered flakes: call it through a flake's symlink "
                          "(see flake-ctl podman register)");
                return PILOT_EXIT_USAGE;
        }

        r = pilot_args_parse(argv + 1, &p.args);
        if (r < 0)
                return PILOT_EXIT_USAGE;
        return pilot_run(&p);
}

/* The environment the launch service works in: its own, never anybody
 * else's. systemd starts it with next to nothing (and the unit unsets the
 * variables below); this makes sure, whatever started it, that no FLAKE_*,
 * FLAKES_DIR, CONTAINERS_*, PATH, DBUS_* or XDG_* value chooses a file, a
 * binary or a bus for what runs as root. */
static void serve_environment(void) {
        (void) clearenv();
        (void) setenv("PATH", FLAKE_LAUNCH_PATH, 1);
}

/* podman-pilot --serve: one instance of flake-launch@.service, one caller. */
static int serve_main(void) {
        _cleanup_(launch_request_done) LaunchRequest req = LAUNCH_REQUEST_NULL;
        _cleanup_(pilot_done) Pilot p = {};
        sigset_t mask;
        int r, status;

        if (geteuid() != 0) {
                log_error("podman-pilot --serve launches runas-root flakes: it runs as root "
                          "(flake-launch@.service)");
                return PILOT_EXIT_USAGE;
        }
        /* The signals meant for the app stay pending until podman runs
         * (launch_podman() then takes and forwards them) and after it has
         * ended: a caller's SIGTERM during the preparation ends the app as
         * it starts, and none can kill us before the exit status is sent. */
        sigset_forwarded(&mask);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);

        r = launch_server_accept(&req);
        if (r < 0)
                return r == -ENOTSOCK ? PILOT_EXIT_USAGE : 1;
        /* From here on stderr is the caller's: errors reach him (and the
         * journal). */
        p.name = req.argv[0];
        p.served = true;
        p.caller_uid = req.uid;
        if (pilot_args_parse(req.argv + 1, &p.args) < 0)
                status = PILOT_EXIT_USAGE;
        else {
                p.args.vars_from_nothing = true;
                r = launch_server_start_reader(&req);
                status = r < 0 ? PILOT_EXIT_FAILURE : pilot_run(&p);
        }
        (void) launch_server_finish(&req, status);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc == 2 && streq(argv[1], "--serve")) {
                _cleanup_free_ char *name = path_basename(argv[0]);

                if (streq(name, "podman-pilot")) {
                        serve_environment();
                        log_setup("podman-pilot", LOG_TARGET_JOURNAL | LOG_TARGET_STDERR);
                        return serve_main();
                }
        }
        log_setup("podman-pilot", LOG_TARGET_JOURNAL | LOG_TARGET_STDERR);
        return pilot_main(argc, argv);
}
