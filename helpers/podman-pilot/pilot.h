/* SPDX-License-Identifier: MIT */
#pragma once

/* podman-pilot: shared declarations of the pilot's parts (one concept per
 * file: args.c, instance.c, provision.c, launch.c, main.c). */

#include <stdbool.h>

#include "flake.h"
#include "podman.h"

/* Exit statuses of the pilot itself (podman-pilot(8), EXIT STATUS). Every
 * other status is the app's own. */
#define PILOT_EXIT_USAGE   124     /* bad @NAME, unknown %option */
#define PILOT_EXIT_FAILURE 125     /* the flake could not be launched */
#define PILOT_EXIT_NO_PODMAN 127   /* podman is not installed */

typedef struct PilotArgs {
        char *instance_suffix;      /* "@NAME" as given, or NULL */
        bool progress;
        bool interactive;
        bool remove;
        bool ignore_sync_error;
        bool ignore_missing_volume_path;
        char **app_args;            /* verbatim, for the app */
} PilotArgs;

void pilot_args_done(PilotArgs *a);
/* argv without argv[0]. Logs and returns -EINVAL on bad input. */
int pilot_args_parse(char **argv, PilotArgs *ret);

/* %VAR expansion of one option piece (VAR: [A-Z_][A-Z0-9_]*; unset
 * variables become "$VAR"; at most 10 rounds). */
int pilot_expand_vars(const char *s, char **ret);

/* The runtime.podman options as argv pieces: each string split at its first
 * space, %VAR expanded, TTY/interactive flags dropped (the pilot decides
 * those), missing volume paths dropped with %ignore_missing_volume_path. */
int pilot_podman_options(const Flake *f, const PilotArgs *a, char ***ret);

/* The caller's meta directory (flake_instance_state_dir(): checked, 0700). */
int instance_meta_dir(const char *ids_dir, char **ret);
/* Takes the instance lock <meta>/<instance>.lock; returns the fd. */
int instance_lock(const char *meta_dir, const char *instance);
/* Reads the container ID from a cid file: -ENOENT if there is none. */
int instance_read_cid(const char *cid_file, char **ret);

/* Provisions a created container (delta layers, host dependencies,
 * includes). On failure the caller removes the container. */
bool provision_needed(const Flake *f);
int provision_container(const PodmanContext *p, const Flake *f, const PilotArgs *a, const char *cid);

/* Runs podman args... with the caller's stdio and forwards SIGHUP, SIGINT,
 * SIGQUIT and SIGTERM: to podman, or with session set (a podman exec that
 * got --env FLAKE_SESSION=<session>) to the exec'd process itself. Returns
 * podman's exit status (128+N for a signal). */
int launch_podman(const PodmanContext *p, char * const *args, SpawnFlags flags, const char *session);
/* SIGTERM or SIGHUP if one reached the pilot during launch_podman(), else 0. */
int launch_termination_signal(void);
/* A fresh value for FLAKE_SESSION. */
char *launch_session_token(void);
