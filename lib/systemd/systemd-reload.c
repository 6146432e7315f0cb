/* SPDX-License-Identifier: MIT */
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "bus-util.h"
#include "log.h"
#include "systemd-reload.h"

static bool bus_error_means_absent(int r) {
        /* No socket, nobody listening, or no runtime dir (no
         * XDG_RUNTIME_DIR) to find it in. */
        return r == -ENOENT || r == -ECONNREFUSED || r == -ENOMEDIUM ||
               r == -EHOSTDOWN || r == -ENXIO;
}

int flake_systemd_reload(bool user) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        /* sd_booted() checks /run/systemd/system/: without it there is no
         * systemd to reload, and connecting would only time out or fail. */
        if (!user && sd_booted() <= 0) {
                log_debug("systemd is not running, not reloading it.");
                return 0;
        }

        r = bus_open_manager(user, &bus);
        if (r < 0) {
                if (bus_error_means_absent(r)) {
                        log_debug_errno(r, "No %s service manager reachable, not reloading it: %m",
                                        user ? "user" : "system");
                        return 0;
                }
                return log_error_errno(r, "Failed to connect to the %s service manager: %m",
                                       user ? "user" : "system");
        }

        r = sd_bus_call_method(bus,
                               "org.freedesktop.systemd1",
                               "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager",
                               "Reload",
                               &error,
                               /* ret_reply= */ NULL,
                               /* types= */ NULL);
        if (r < 0) {
                if (!user && sd_bus_error_has_name(&error, SD_BUS_ERROR_SERVICE_UNKNOWN)) {
                        /* System bus up but no systemd behind it (a container
                         * with dbus but another init). */
                        log_debug("No systemd on the system bus, not reloading it.");
                        sd_bus_error_free(&error);
                        return 0;
                }
                log_error_errno(r, "Failed to reload the %s service manager: %s",
                                user ? "user" : "system", error.message ?: strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }

        log_debug("Reloaded the %s service manager.", user ? "user" : "system");
        return 0;
}
