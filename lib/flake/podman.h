/* SPDX-License-Identifier: MIT */
#pragma once

/* Running podman against a flake image store.
 *
 * Every podman call made for flakes (by the pilot and by flake-ctl) sees
 * CONTAINERS_STORAGE_CONF pointing at the flake storage.conf, so flake images
 * live in their own store ("the storage.conf trick" of the original tool).
 * The rest of the environment of the process passes through unchanged, in
 * particular CONTAINERS_CONF and CONTAINERS_REGISTRIES_CONF: a pilot that runs
 * podman for somebody else (the launch service, podman-pilot(8)) starts from
 * an environment of its own and never from the caller's.
 *
 * Identity: a flake with runas "root" needs rootful podman, which only root
 * runs: there is no sudo here (a caller whose environment chose the
 * registration, the podman binary and its configuration would choose what
 * root runs). A non-root caller of such a flake asks the launch service
 * (flake-launch@.service(8)) instead. Every other runas value means
 * rootless podman as the caller. Rootless podman keeps the caller's own
 * XDG_RUNTIME_DIR (where the user's bus is); a caller without one gets
 * XDG_RUNTIME_DIR=<runroot>/<user> (created 0700) like the original. */

#include <stdbool.h>
#include <sys/types.h>

#include "spawn.h"

typedef struct PodmanContext {
        char *podman;               /* the podman binary: $FLAKE_PODMAN or "podman" in PATH */
        bool rootful;
        char *storage_conf;
        char **env;                 /* "KEY=value" added to podman's environment */
} PodmanContext;

/* Exit status podman uses for its own errors (as opposed to the app's). */
#define PODMAN_EXIT_ERROR 125

void podman_context_done(PodmanContext *p);

/* runas may be NULL (rootless as the caller). Fails with -ENOENT if podman
 * is not installed, with -EPERM for runas "root" when the caller is not
 * root. Does not log. */
int podman_context_init(PodmanContext *p, const char *storage_conf, const char *runas);

/* The complete argv for "podman args...". */
char **podman_argv(const PodmanContext *p, char * const *args);

/* spawn_wait()/spawn_async() for podman args...; with ret_stdout, podman's
 * stdout is captured. */
int podman_wait(const PodmanContext *p, char * const *args, SpawnFlags flags, char **ret_stdout);
int podman_async(const PodmanContext *p, char * const *args, SpawnFlags flags, pid_t *ret_pid);

/* The same with a NULL-terminated list of arguments. */
int podman_waitl(const PodmanContext *p, SpawnFlags flags, char **ret_stdout, ...) __attribute__((sentinel));

/* Reads "runroot" from the [storage] section of a containers-storage.conf. */
int storage_conf_runroot(const char *path, char **ret);

/* Trims trailing newlines from podman output in place; returns s. */
char *podman_chomp(char *s);

/* A container ID as podman prints it: 12 to 64 lowercase hex digits (and
 * so never an option of podman's). */
bool podman_container_id_is_valid(const char *s);

/* Reads the container ID of a cid file (name relative to dir_fd, or a path
 * with AT_FDCWD), never through a symlink. -ENOENT: no file or an empty one
 * (podman creates it before it writes it); -EBADMSG: the content is not a
 * container ID; other errors of open/read. Does not log. */
int podman_read_cid_file(int dir_fd, const char *name, char **ret);
