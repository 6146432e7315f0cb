/* SPDX-License-Identifier: MIT */
#pragma once

/* Starting and stopping the VM of an instance: flake-vm@INSTANCE.service
 * over sd-bus when a systemd manager is reachable (system bus for root,
 * user bus otherwise), else the runner spawned directly. */

#include "vm-instance.h"

/* Pilot exit statuses for failures of its own (firecracker-pilot(8)). */
#define PILOT_EXIT_NETWORK 121     /* the flake's TAP is missing (flake-tap@ not started) */
#define PILOT_EXIT_LOST 122        /* the VM went away mid-session */
#define PILOT_EXIT_VMM 123         /* VMM missing, failed to start, crashed in boot */
#define PILOT_EXIT_PULL 123        /* a missing image could not be pulled (as flake-pull@ failing under flake-vm@) */
#define PILOT_EXIT_AGENT 124       /* the guest agent did not answer in time */
#define PILOT_EXIT_CONFIG 125      /* usage, flake, images, overlay, busy instance */

/* Is the instance's runner running (its lock is held)? */
bool vm_is_running(const VmInstance *i);

/* Starts the VM and waits until its agent is ready. Returns 0, or a
 * PILOT_EXIT_* status (the reason already logged). */
int vm_start(VmInstance *i);

/* Stops the VM (or waits for a one-shot VM that powers off by itself, up to
 * wait_ms, before stopping it). */
void vm_stop(VmInstance *i, unsigned wait_ms);
