/* SPDX-License-Identifier: MIT */
#pragma once

/* flake-ctl: shared state of one invocation and the verb entry points. Each
 * verb family lives in its own file and parses its own options with
 * getopt_long(); argv[0] is the verb itself ("register", "network", ...). */

#include <getopt.h>
#include <stdbool.h>

#include "config.h"
#include "flake.h"
#include "podman.h"
#include "table.h"

/* Exit statuses of flake-ctl (flake-ctl(8), EXIT STATUS). */
#define CTL_EXIT_FAILURE 1
#define CTL_EXIT_USAGE 2

typedef struct Ctl {
        bool user;                  /* --user was given and honoured */
        FlakeConfig config;         /* system or user configuration */
} Ctl;

/* Returns a negative errno on failure (already logged), -EINVAL for usage
 * errors only (the caller exits with status 2), >= 0 on success. Verbs must
 * therefore map their own EINVAL failures to another errno (see
 * ctl_failure()) so a bad file is not reported as a usage error. */
typedef int (*CtlVerb)(Ctl *ctl, int argc, char *argv[]);

int verb_init(Ctl *ctl, int argc, char *argv[]);
int verb_list(Ctl *ctl, int argc, char *argv[]);
int verb_verify(Ctl *ctl, int argc, char *argv[]);
int verb_podman_register(Ctl *ctl, int argc, char *argv[]);
int verb_podman_remove(Ctl *ctl, int argc, char *argv[]);
int verb_podman_show(Ctl *ctl, int argc, char *argv[]);
int verb_podman_pull(Ctl *ctl, int argc, char *argv[]);
int verb_podman_load(Ctl *ctl, int argc, char *argv[]);
int verb_podman_stop(Ctl *ctl, int argc, char *argv[]);
int verb_firecracker_register(Ctl *ctl, int argc, char *argv[]);
int verb_firecracker_remove(Ctl *ctl, int argc, char *argv[]);
int verb_firecracker_show(Ctl *ctl, int argc, char *argv[]);
int verb_firecracker_pull(Ctl *ctl, int argc, char *argv[]);
int verb_firecracker_network(Ctl *ctl, int argc, char *argv[]);
int verb_firecracker_snapshot(Ctl *ctl, int argc, char *argv[]);
int verb_firecracker_volume(Ctl *ctl, int argc, char *argv[]);

/* Loads the system or user configuration according to ctl->user (which is
 * dropped for root, as the original tool does). */
int ctl_load_config(Ctl *ctl);

/* Parses a --format argument (usage error if unknown). */
int ctl_parse_format(const char *arg, OutputFormat *ret);

/* Options of the listing verbs (list, show): --help (prints usage, returns
 * 1), --user when user_option, --format. 0 to go on, -EINVAL on misuse. */
int ctl_parse_listing(Ctl *ctl, int argc, char *argv[], const char *usage, bool user_option,
                      OutputFormat *ret_format);

/* podman with the flake image store, as flake-ctl runs it: rootful for root,
 * rootless for a user's own store. Logs when podman is missing. */
int ctl_podman_context(Ctl *ctl, PodmanContext *ret);

/* getopt_long() as every verb runs it: the messages about unknown options
 * and missing or superfluous values are ours (one line, input escaped; the
 * verb, argv[0], in front), and every option value is checked here, once,
 * with ctl_check_value() before a verb sees it. Returns what getopt_long()
 * returns, '?' after such a usage error was logged. */
int ctl_getopt(int argc, char *argv[], const char *optstring, const struct option *options);
/* "flake-ctl VERSION", what -V/--version prints on every command; returns 0. */
int ctl_print_version(void);
static inline bool ctl_arg_is_version(const char *a) {
        return streq(a, "--version") || streq(a, "-V");
}
/* For options that take several values, as the original's (clap's
 * "multiple"): "--layer a b" is "--layer a --layer b". After ctl_getopt()
 * returned such an option: optarg and the arguments after it up to the next
 * one starting with '-', taken (checked as ctl_check_value() does). */
int ctl_option_values(int argc, char *argv[], const char *option, char ***ret);

/* Any option value: not empty, valid UTF-8, no control characters (it may
 * end up in YAML, in a message or on a podman command line). Usage error
 * naming the option otherwise. */
int ctl_check_value(const char *option, const char *value);

/* An image reference option (--container, --base, --layer, --uri): also
 * refuses what podman would take for an option. */
int ctl_check_image(const char *option, const char *value);

/* Runs podman args up to attempts times, its output kept: a failure is one
 * line of ours, "WHAT failed (status N): <podman's reason>", not podman's
 * lines followed by ours. */
int ctl_podman_run(const PodmanContext *p, char **args, const char *what, unsigned attempts);

/* A usage error: logs the message and returns -EINVAL (exit status 2). */
int ctl_usage_error(const char *fmt, ...) _printf_(1, 2);

/* Maps a failure to a non-usage return (-EINVAL becomes -EBADMSG). */
static inline int ctl_failure(int r) {
        return r == -EINVAL ? -EBADMSG : r;
}
