/* SPDX-License-Identifier: MIT */
#pragma once

/* Running other programs: always an argv, never a shell. */

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

typedef enum SpawnFlags {
        SPAWN_NULL_STDIN    = 1 << 0,
        SPAWN_NULL_STDOUT   = 1 << 1,
        SPAWN_NULL_STDERR   = 1 << 2,
        SPAWN_CAPTURE_STDOUT = 1 << 3,   /* into *ret_stdout */
        SPAWN_STDERR_TO_STDOUT = 1 << 4, /* e.g. to capture a tool's error message */
        SPAWN_NEW_PGRP      = 1 << 5,    /* keep terminal signals (Ctrl-C) away from it */
} SpawnFlags;

/* The child starts with an empty signal mask, whatever the caller blocks. */

/* Runs argv[0] (looked up in PATH if it has no '/') with the current
 * environment plus env ("KEY=value" entries, may be NULL), waits for it, and
 * returns its exit status (0..255), 128+N if it died of signal N, or a
 * negative errno if it could not be started (-ENOENT: no such program).
 * With PILOT_DEBUG set, the command line is logged at debug level (URLs
 * redacted by url_redact(); the environment never). */
int spawn_wait(char * const *argv, char * const *env, SpawnFlags flags, char **ret_stdout);

/* fork+exec without waiting; returns the pid or a negative errno. */
int spawn_async(char * const *argv, char * const *env, SpawnFlags flags, pid_t *ret_pid);

/* Waits for pid; same return convention as spawn_wait(). */
int spawn_wait_pid(pid_t pid);

/* Is name an executable in PATH (or an executable path)? */
bool find_executable(const char *name, char **ret_path);

/* The signals a pilot passes on to its app (as signals, or as the agent
 * protocol's SIGNAL and WINDOW frames): SIGHUP, SIGINT, SIGQUIT, SIGTERM and
 * SIGWINCH. */
void sigset_forwarded(sigset_t *ret);
