/* SPDX-License-Identifier: MIT */
#pragma once

/* podman-pilot: shared declarations of the pilot's parts (one concept per
 * file: args.c, instance.c, provision.c, launch.c, main.c). */

#include <stdbool.h>
#include <sys/types.h>

#include "flake.h"
#include "pilot-exit.h"
#include "podman.h"

typedef struct PilotArgs {
        char *instance_suffix;      /* "@NAME" as given, or NULL */
        bool progress;
        bool interactive;
        bool remove;
        bool ignore_sync_error;
        bool ignore_missing_volume_path;
        char **app_args;            /* verbatim, for the app */
        /* %VAR in runtime.podman expands to nothing of anybody's
         * environment (the launch service: see privileged.c). */
        bool vars_from_nothing;
} PilotArgs;

void pilot_args_done(PilotArgs *a);
/* argv without argv[0]. Logs and returns -EINVAL on bad input. */
int pilot_args_parse(char **argv, PilotArgs *ret);

/* %VAR expansion of one option piece (VAR: [A-Z_][A-Z0-9_]*; unset
 * variables become "$VAR"; at most 10 rounds). With from_env false every
 * variable counts as unset. */
int pilot_expand_vars(const char *s, bool from_env, char **ret);

/* The runtime.podman options as argv pieces: each string split at its first
 * space, %VAR expanded, TTY/interactive flags dropped (the pilot decides
 * those), missing volume paths dropped with %ignore_missing_volume_path. */
int pilot_podman_options(const Flake *f, const PilotArgs *a, char ***ret);

/* The caller's meta directory (flake_instance_state_dir(): checked, 0700). */
int instance_meta_dir(const char *ids_dir, char **ret);
/* The launch service's meta directory for the instances of uid:
 * RUNTIME_DIR/ids/UID, root's, whatever flakes.yml says (the caller must not
 * be able to touch what root's podman reads back). */
int instance_served_meta_dir(uid_t uid, char **ret);
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

/* The agent of resumed containers (agent.c, podman-pilot(8) AGENT). */
typedef enum AgentCall {
        AGENT_CALL_DONE,            /* the session ran: *ret_status is the app's */
        AGENT_CALL_NONE,            /* the container has no agent: use podman exec */
        AGENT_CALL_DOWN,            /* it has one, but it does not answer */
        AGENT_CALL_LOST,            /* the connection ended before the app did */
} AgentCall;

/* With the agent installed, makes a fresh agent directory for the instance
 * and appends the mounts, the agent as entrypoint, image and the agent's
 * arguments to args: returns 1. Returns 0 (args untouched) when there is no
 * agent to mount. */
int agent_create_options(const char *meta_dir, const char *instance, const char *image, char ***args);
int agent_remove_dir(const char *meta_dir, const char *instance);
/* Runs argv in the instance's container through its agent; with wait,
 * gives a container just started time to bring its agent up. Logs the
 * failures that end the call (AGENT_CALL_DONE with a status of ours). */
int agent_call(const char *meta_dir, const char *instance, char * const *argv, bool tty, bool wait,
               int *ret_status);

/* The launch service (privileged.c, flake-launch@.service(8)). Its socket is
 * RUNTIME_DIR/FLAKE_LAUNCH_SOCKET_NAME (units/flake-launch.socket names the
 * built-in /run/flakes/launch.sock); its callers are root and the members
 * of FLAKE_GROUP_NAME (sysusers.d/flake-pilot.conf). */
#define FLAKE_LAUNCH_SOCKET_NAME "launch.sock"
#define FLAKE_GROUP_NAME "flake"
/* The environment of the service, whatever it was started with: */
#define FLAKE_LAUNCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

char *launch_socket_path(void);

/* Client: asks the service to launch the runas-root flake name with the
 * caller's arguments and stdio, forwards signals and window size changes,
 * and returns the app's exit status (PILOT_EXIT_FAILURE after one error
 * line when the service cannot be reached or refuses). */
int launch_client(const char *name, const PilotArgs *a);

typedef struct LaunchRequest {
        int socket;
        uid_t uid;                  /* the caller, from SO_PEERCRED */
        pid_t pid;
        char **argv;                /* app name, then its pilot arguments */
        pid_t reader;               /* the control frame reader */
} LaunchRequest;

#define LAUNCH_REQUEST_NULL ((LaunchRequest) { .socket = -EBADF })

void launch_request_done(LaunchRequest *req);
/* Server: takes the connection on stdin, refuses (ERROR frame, one log line)
 * peers that are neither root nor in group flake, receives the request and
 * makes the caller's descriptors our stdin, stdout and stderr. */
int launch_server_accept(LaunchRequest *ret);
/* Forwards the caller's SIGNAL and WINCH frames as signals to this process
 * (launch_podman() passes them on); the end of the connection is SIGHUP. */
int launch_server_start_reader(LaunchRequest *req);
/* Sends the exit status. */
int launch_server_finish(LaunchRequest *req, int status);
