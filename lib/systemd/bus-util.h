/* SPDX-License-Identifier: MIT */
#pragma once

/* The one way to reach the service manager over sd-bus. Ownership uses
 * sd-bus's own cleanup functions: _cleanup_(sd_bus_flush_close_unrefp) (or
 * sd_bus_close_unrefp where nothing is left to send),
 * _cleanup_(sd_bus_message_unrefp), _cleanup_(sd_bus_error_free). */

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* The calling user's manager (user), or the system manager. Root reaches
 * the system manager over PID 1's private socket first, as systemctl does:
 * it answers even when no D-Bus broker runs (early at boot, in a minimal
 * container); then the system bus. Negative errno, not logged. */
int bus_open_manager(bool user, sd_bus **ret);
