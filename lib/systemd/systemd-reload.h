/* SPDX-License-Identifier: MIT */
#pragma once

/* Telling the service manager that the flake set changed. */

#include <stdbool.h>

/* Asks systemd (the system manager, or the calling user's manager when user
 * is true) to reload its units, as "systemctl [--user] daemon-reload" does,
 * so that units generated for newly registered or removed flakes appear or
 * vanish at once. Returns 0 without doing anything (logged at debug level)
 * when no systemd runs or its bus cannot be reached; a negative errno when
 * systemd runs and the reload failed (already logged). */
int flake_systemd_reload(bool user);
