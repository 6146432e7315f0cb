/* SPDX-License-Identifier: MIT */
#pragma once

/* One registered flake: NAME.yaml plus its NAME.d/ drop-ins, for either
 * engine. The typed fields are a view of the merged YAML tree, which is kept
 * so that a registration can be written back with every key it had. */

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "yaml-tree.h"

/* vm.runtime.network.mode of QEMU's user-mode network (lib/net's
 * network-config.h has the rest of that section; the generator needs only
 * to know that this mode has no flake-tap@). */
#define FLAKE_NETWORK_MODE_USER "user"

typedef enum FlakeEngine {
        FLAKE_ENGINE_PODMAN,
        FLAKE_ENGINE_FIRECRACKER,
        _FLAKE_ENGINE_MAX,
        _FLAKE_ENGINE_INVALID = -EINVAL,
} FlakeEngine;

const char *flake_engine_to_string(FlakeEngine e);
FlakeEngine flake_engine_from_string(const char *s);
/* "podman-pilot" / "firecracker-pilot" */
const char *flake_engine_pilot(FlakeEngine e);

typedef struct Flake {
        char *name;                 /* app name: NAME of NAME.yaml */
        char *path;                 /* .../NAME.yaml */
        YamlDocument *doc;          /* merged tree */
        FlakeEngine engine;

        /* common */
        char *image;                /* container.name / vm.name */
        char *target_app_path;
        char *host_app_path;
        char **include_tar;
        char **include_path;
        char *runas;
        bool resume;

        /* container */
        char *base_container;
        char **layers;
        bool check_host_dependencies;
        bool attach;
        bool agent;                 /* resume through flake-agent (default true) */
        char **podman_opts;         /* NULL: not set (pilot defaults apply) */

        /* vm */
        bool force_vsock;
        bool snapshot;              /* vm.runtime.snapshot, default true */
        char **boot_args;
        uint64_t overlay_size;      /* 0: none */
        char *rootfs_image_path;
        char *kernel_image_path;
        char *initrd_path;
        uint64_t mem_size_mib;      /* 0: VMM default */
        uint64_t vcpu_count;        /* 0: VMM default */
        char *cache_type;
} Flake;

Flake *flake_free(Flake *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(Flake *, flake_free);

/* Problems found while loading: every error and warning as
 * "FILE:LINE: message", in the order found. */
typedef struct FlakeDiagnostics {
        char **errors;
        char **warnings;
} FlakeDiagnostics;

void flake_diagnostics_done(FlakeDiagnostics *d);
/* Appends "FILE:LINE: message" for node n (or "fallback_file: message" when
 * n has no position) to list (d->errors or d->warnings). A list keeps at most
 * FLAKE_PROBLEMS_MAX entries and then one line saying that more were left
 * out: nobody reads 100,000 warnings about unknown keys, and collecting
 * them would make loading such a file quadratic. */
#define FLAKE_PROBLEMS_MAX 100U
void flake_problem(char ***list, const char *fallback_file, const YamlNode *n, const char *fmt, ...) _printf_(4, 5);
/* Logs every warning, and every error, once. */
void flake_diagnostics_log(const FlakeDiagnostics *d);

/* Loads <dir>/<name>.yaml and the files of <dir>/<name>.d/ (sorted; each
 * top-level key of a later file replaces the earlier one). Returns -ENOENT if
 * there is no such registration, -EBADMSG if any error was found (all of them
 * are in diag). diag may be NULL: problems are then logged. */
int flake_load(const char *dir, const char *name, Flake **ret, FlakeDiagnostics *diag);
/* The same, for a caller that listed dir (flake_list()) and knows whether
 * <name>.d/ exists: one lookup less per flake when loading them all. */
int flake_load_listed(const char *dir, const char *name, bool has_dropins, Flake **ret, FlakeDiagnostics *diag);

/* Interprets an already merged document (used by flake_load and the fuzzer). */
int flake_from_document(YamlDocument *doc, const char *name, const char *path,
                        Flake **ret, FlakeDiagnostics *diag);

/* The NAME.yaml file name of an app name. */
char *flake_yaml_path(const char *dir, const char *name);
char *flake_dropin_dir(const char *dir, const char *name);

/* Lists the registration names (NAME of every NAME.yaml) in dir, sorted. A
 * missing dir is an empty list. */
int flake_list_names(const char *dir, char ***ret);
/* The same, and for each name whether dir has a NAME.d entry, from one
 * read of dir (for flake_load_listed()). */
int flake_list(const char *dir, char ***ret_names, bool **ret_has_dropins);

/* The built-in registration templates, identical in content to the ones the
 * original tool installs in /etc/flakes/. */
extern const char flake_template_container[];
extern const char flake_template_firecracker[];
