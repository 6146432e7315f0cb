/* SPDX-License-Identifier: MIT */
#pragma once

/* Fetching a flake's images at launch (firecracker-pilot, podman-pilot), as
 * the original README promises ("missing containers will be pulled
 * automatically at launch"). Never on the hot path: a pilot calls this only
 * once it has found an image missing, then launches again.
 *
 * Under systemd the pilot (re)starts flake-pull@INSTANCE.service in the
 * flake's manager (the user's for a user flake, flake-lookup.h) and waits
 * for it: the same unit, sandbox and journal as a pull at boot, and a
 * member of group flake may start it for a system flake (polkit). Without a
 * reachable manager, or when the manager has no flake-pull@, the pilot runs
 * "flake-pull flake INSTANCE" itself. */

#include <stdbool.h>
#include <stdint.h>

/* With progress (the pilot's %progress), what the pull says goes to stderr
 * as it comes (its own progress lines; from the unit's journal under
 * systemd). Otherwise only a failure is shown, as one line: the pull's own
 * error and where to read more.
 * Returns 0 when the pull succeeded; -EIO when it ran and failed, other
 * negative errnos when it could not be run: logged in every case. */
int launch_pull(const char *instance, bool user, bool progress);

/* The last message of priority error or worse that unit's processes logged
 * since "since" (CLOCK_REALTIME µs), or NULL: from the system journal (needs
 * read access: root, group systemd-journal) or, for a user unit, the user's. */
char *unit_journal_last_error(const char *unit, bool user, uint64_t since);   /* since: now(CLOCK_REALTIME) */

