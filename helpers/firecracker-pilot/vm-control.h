/* SPDX-License-Identifier: MIT */
#pragma once

/* Starting and stopping the VM of an instance: flake-vm@INSTANCE.service
 * over sd-bus when a systemd manager is reachable (system bus for root,
 * user bus otherwise), else the runner spawned directly. */

#include "pilot-exit.h"
#include "vm-instance.h"


/* Is the instance's runner running (its lock is held)? */
bool vm_is_running(const VmInstance *i);

/* Starts the VM and waits until its agent is ready. Returns 0, or a
 * PILOT_EXIT_* status (the reason already logged). */
int vm_start(VmInstance *i);

/* Stops the VM (or waits for a one-shot VM that powers off by itself, up to
 * wait_ms, before stopping it). */
void vm_stop(VmInstance *i, unsigned wait_ms);
