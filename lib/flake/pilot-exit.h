/* SPDX-License-Identifier: MIT */
#pragma once

/* The exit statuses of the pilots' own failures (podman-pilot(8) and
 * firecracker-pilot(8), EXIT STATUS; tests/check-exit-codes.py holds the man
 * pages to this list). Any other status is the app's: its own, or 128+N when
 * signal N ended it. One meaning per value in both pilots; 125 to 127 are
 * also what podman itself returns for the same kinds of failure. */
#define PILOT_EXIT_AGENT      120  /* VM: the guest agent did not answer in time */
#define PILOT_EXIT_NETWORK    121  /* VM: the flake's TAP is missing (flake-tap@ not started, or failed) */
#define PILOT_EXIT_LOST       122  /* VM: the VM went away during the session */
#define PILOT_EXIT_VMM        123  /* VM: the VMM is missing, could not be started or died while booting */
#define PILOT_EXIT_USAGE      124  /* bad @NAME or %option, not called through a flake link */
#define PILOT_EXIT_FAILURE    125  /* the flake could not be launched: registration, images, pull, provisioning, busy instance */
#define PILOT_EXIT_CANNOT_RUN 126  /* the program cannot be executed (as a shell says) */
#define PILOT_EXIT_NOT_FOUND  127  /* the program does not exist: podman, or the app in the VM (as a shell says) */

/* The lowest of them: an app's status below it is not a pilot failure. */
#define PILOT_EXIT_MIN PILOT_EXIT_AGENT
