/* SPDX-License-Identifier: MIT */
#pragma once

/* Where a launch finds its flake (the contract of both pilots, flake-vm and
 * flake-pull): the system's registrations first (FLAKES_DIR or flakes.yml's
 * flakes_dir), then, for callers other than root, the caller's own (the
 * flakes_dir of ~/.config/flakes.yml, made by "flake-ctl init --user"). As
 * in the original, root has no user flakes, and a system flake of the same
 * name wins over a user's: an admin's registration cannot be shadowed.
 *
 * Where the flake was found decides everything else of the launch: the
 * image store and VM registry (the user's own directories for a user
 * flake), and the service manager that runs its units (the user's manager
 * for a user flake, the system's otherwise). */

#include <stdbool.h>

#include "config.h"
#include "flake.h"

/* Looks app up. On success ret_config is the configuration the flake came
 * from (ret_config->user tells a user flake) and *ret_flake the flake.
 * Returns -ENOENT when no registration has the name (quietly; ret_searched,
 * if given, gets the directories searched, "A" or "A and B", for the caller's
 * one line); -EBADMSG for a malformed registration (its problems in diag);
 * other errors from a configuration file that cannot be read (logged).
 * ret_config must be done by the caller whatever the result. */
int flake_lookup(const char *app, FlakeConfig *ret_config, Flake **ret_flake, FlakeDiagnostics *diag,
                 char **ret_searched);
