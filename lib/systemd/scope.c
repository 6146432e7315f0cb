/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bus-util.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "scope.h"

/* Every bus operation below goes through bus_open_manager() (root's
 * attempt at PID 1's private socket starts with sd_bus_set_address(), then
 * sd_bus_open_system() or sd_bus_open_user()) and sd_bus_call(), so the unit
 * test can replace exactly those with -Wl,--wrap and check the messages we
 * send. */

#define SCOPE_JOB_TIMEOUT_USEC (5 * 1000 * 1000ULL)

char *flake_scope_unit_name(const char *flake_name, const char *instance, pid_t pid) {
        _cleanup_free_ char *e = unit_name_escape(instance ? instance : flake_name);

        return xasprintf("flake-%s-%d.scope", e, (int) (pid > 0 ? pid : getpid()));
}

static int append_properties(sd_bus_message *m, const char *description, const char *slice,
                             pid_t pid, FlakeScopeFlags flags) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "(sv)", "Description", "s", description);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "(sv)", "Slice", "s", slice);
        if (r < 0)
                return r;
        /* A failed scope would otherwise linger until "systemctl reset-failed". */
        r = sd_bus_message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t) pid);
        if (r < 0)
                return r;
        if (flags & FLAKE_SCOPE_DELEGATE) {
                r = sd_bus_message_append(m, "(sv)", "Delegate", "b", 1);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/* A scope's start job normally finishes right away; it is gone from the bus
 * as soon as it has. Polling the job object keeps every bus operation a plain
 * method call (no signal matches, no event loop) at the cost of, typically,
 * one extra round trip. */
static int wait_for_job(sd_bus *bus, const char *job) {
        uint64_t waited = 0, delay = 500;

        for (;;) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
                sd_bus_error error = SD_BUS_ERROR_NULL;
                int r;

                r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", job,
                                                   "org.freedesktop.DBus.Properties", "Get");
                if (r < 0)
                        return r;
                r = sd_bus_message_append(m, "ss", "org.freedesktop.systemd1.Job", "State");
                if (r < 0)
                        return r;
                r = sd_bus_call(bus, m, 0, &error, &reply);
                if (r < 0) {
                        /* The job object is gone: the job has finished. */
                        bool gone = sd_bus_error_has_names(&error,
                                                           SD_BUS_ERROR_UNKNOWN_OBJECT,
                                                           "org.freedesktop.systemd1.NoSuchJob",
                                                           SD_BUS_ERROR_UNKNOWN_METHOD);
                        sd_bus_error_free(&error);
                        return gone ? 0 : r;
                }
                if (waited >= SCOPE_JOB_TIMEOUT_USEC)
                        return -ETIMEDOUT;
                (void) nanosleep(&(struct timespec) { .tv_nsec = (long) delay * 1000 }, NULL);
                waited += delay;
                delay = delay < 50000 ? delay * 2 : delay;
        }
}

/* sd-bus would find out the same by trying to connect, but only after
 * allocating a bus, parsing addresses and a failed connect() -- measurable
 * on every launch of a machine without systemd. Where no address is set in
 * the environment, the default socket must exist; otherwise there is no bus
 * and we say so at once. An address in the environment is left to sd-bus. */
static bool bus_socket_present(bool user) {
        _cleanup_free_ char *path = NULL;
        const char *e;

        e = getenv(user ? "DBUS_SESSION_BUS_ADDRESS" : "DBUS_SYSTEM_BUS_ADDRESS");
        if (!isempty(e))
                return true;
        if (!user)
                return access("/run/dbus/system_bus_socket", F_OK) >= 0;
        e = getenv("XDG_RUNTIME_DIR");
        if (isempty(e))
                return false;
        path = xasprintf("%s/bus", e);
        return access(path, F_OK) >= 0;
}

/* StartTransientUnit(unit) with pid as its only process, then waits for the
 * start job. */
static int scope_start(const char *unit, const char *description, pid_t pid, FlakeScopeFlags flags) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        bool user = (flags & FLAKE_SCOPE_USER) || geteuid() != 0;
        const char *job;
        int r;

        if (!bus_socket_present(user)) {
                log_debug("No %s bus socket", user ? "user" : "system");
                return FLAKE_SCOPE_NO_BUS;
        }
        r = bus_open_manager(user, &bus);
        if (r < 0) {
                log_debug_errno(r, "No %s bus: %m", user ? "user" : "system");
                return FLAKE_SCOPE_NO_BUS;
        }

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
                                           "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager",
                                           "StartTransientUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r < 0)
                return r;
        r = append_properties(m, description, user ? "app-flake.slice" : "flake.slice", pid, flags);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;

        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                log_debug_errno(r, "StartTransientUnit(%s) failed: %s", unit,
                                error.message ? error.message : "unknown error");
                sd_bus_error_free(&error);
                return r;
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return r;
        return wait_for_job(bus, job);
}

int flake_scope_enter(const char *flake_name, const char *instance, const char *engine,
                      pid_t pid, FlakeScopeFlags flags, char **ret_unit) {
        _cleanup_free_ char *unit = NULL, *description = NULL;
        int r;

        if (pid <= 0)
                pid = getpid();
        unit = flake_scope_unit_name(flake_name, instance, pid);
        description = xasprintf("flake %s (%s)", instance ? instance : flake_name, strna(engine));
        r = scope_start(unit, description, pid, flags);
        if (r < 0)
                return r;
        if (ret_unit)
                *ret_unit = TAKE_PTR(unit);
        return 0;
}

char *flake_container_scope_unit_name(const char *instance) {
        _cleanup_free_ char *e = unit_name_escape(instance);

        return xasprintf("flake-%s-container.scope", e);
}

int flake_scope_enter_container(const char *instance, const char *engine, pid_t pid,
                                FlakeScopeFlags flags, char **ret_unit) {
        _cleanup_free_ char *unit = flake_container_scope_unit_name(instance);
        _cleanup_free_ char *description = xasprintf("Container of flake %s (%s)", instance, strna(engine));
        int r;

        r = scope_start(unit, description, pid > 0 ? pid : getpid(), flags);
        if (r < 0)
                return r;
        if (ret_unit)
                *ret_unit = TAKE_PTR(unit);
        return 0;
}
