/* SPDX-License-Identifier: MIT */
#pragma once

/* The contract between the VM runner (flake-vm, behind flake-vm@.service)
 * and firecracker-pilot, which starts it and maps its status to its own
 * (flake-vm@.service(8), EXIT STATUS). */
/* (1, EXIT_FAILURE: any other failure.) */
#define RUNNER_EXIT_CONFIG     2  /* bad instance, flake, kernel, rootfs, overlay, VM settings, VMM user */
#define RUNNER_EXIT_NO_VMM     3  /* the VMM is not installed */
#define RUNNER_EXIT_NO_AGENT   4  /* the guest agent did not answer in time */
#define RUNNER_EXIT_VMM_FAILED 5  /* the VMM failed to start, crashed or ended with an error */
#define RUNNER_EXIT_NO_NETWORK 6  /* the flake has network settings but its TAP is missing */

/* How long the runner waits for the guest agent, and the pilot for the
 * runner (plus a margin): $FLAKE_VM_AGENT_TIMEOUT seconds, a positive
 * integer, else the default (a TCG boot of a distribution kernel takes
 * ~10 s on our CI). */
#define VM_AGENT_TIMEOUT_ENV "FLAKE_VM_AGENT_TIMEOUT"
#define VM_AGENT_TIMEOUT_DEFAULT_SEC 60U
unsigned vm_agent_timeout_sec(void);
