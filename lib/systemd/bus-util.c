/* SPDX-License-Identifier: MIT */
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "macro.h"

static int bus_open_private(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int bus_open_manager(bool user, sd_bus **ret) {
        int r;

        if (user)
                return sd_bus_open_user(ret);
        if (geteuid() == 0) {
                r = bus_open_private(ret);
                if (r >= 0)
                        return r;
                log_debug_errno(r, "Cannot connect to systemd's private socket, trying the system bus: %m");
        }
        return sd_bus_open_system(ret);
}
