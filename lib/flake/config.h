/* SPDX-License-Identifier: MIT */
#pragma once

/* The global configuration: /etc/flakes.yml, or ~/.config/flakes.yml in
 * user mode. Both have one section, "generic", with four keys. */

#include <stdbool.h>

#include "macro.h"

typedef struct FlakeConfig {
        bool user;                  /* loaded from the user file */
        char *path;                 /* file it came from, NULL for built-ins */
        char *flakes_dir;
        char *podman_ids_dir;
        char *firecracker_ids_dir;
        char *podman_storage_conf;
} FlakeConfig;

void flake_config_done(FlakeConfig *c);

/* System configuration: built-in defaults, overridden by /etc/flakes.yml if
 * present, and by FLAKES_DIR for the flakes dir. Malformed file: error. */
int flake_config_load_system(FlakeConfig *c);

/* User configuration: ~/.config/flakes.yml must exist and name every key;
 * otherwise an error that says to run "flake-ctl init --user". */
int flake_config_load_user(FlakeConfig *c);

/* User mode is only honoured for non-root callers (as in the original:
 * root's --user is ignored). Loads the matching configuration. */
int flake_config_load(FlakeConfig *c, bool want_user);

/* Text of a user flakes.yml for home (the init --user template). */
char *flake_config_user_template(const char *home, const FlakeConfig *system);
