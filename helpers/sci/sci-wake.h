/* SPDX-License-Identifier: MIT */
#pragma once

#include "agent-protocol.h"

#include <stdbool.h>

/* WAKE from the host (flake-agent-protocol(7)): the VM was restored from a
 * snapshot, which every restore shares. Sets the wall clock to the host's,
 * credits the seed to the kernel's random pool and reseeds the CRNG, so
 * that no two restores hand out the same random numbers; then answers on
 * fd. Only when apply: an agent on a Unix socket (flake-agent in a
 * container, sci's host test mode) is not in a VM, and its clock and pool
 * are the host's. < 0 on a malformed frame (the connection is dropped);
 * the clock or the pool failing is logged and answered all the same. */
int sci_wake(int fd, const AgentFrame *f, bool apply);
