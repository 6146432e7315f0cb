/* SPDX-License-Identifier: MIT */
#pragma once

/* Each launch of a flake runs in a transient scope unit, created the way
 * "systemd-run --scope" does it: StartTransientUnit over sd-bus with the
 * launching process as the scope's only PID, then waiting for the start job.
 * Children forked afterwards (podman, firecracker, ...) inherit the scope, so
 * the app is accounted and visible in systemd-cgls and systemctl status.
 *
 * The system manager is used for root, the user manager otherwise. Where no
 * manager can be reached (no systemd, a container, CI) the launch goes on
 * without a scope: that case returns FLAKE_SCOPE_NO_BUS so the caller can
 * tell it apart from real failures. */

#include <stdbool.h>
#include <sys/types.h>

/* Returned when no bus could be opened at all. */
#define FLAKE_SCOPE_NO_BUS (-EHOSTDOWN)

typedef enum FlakeScopeFlags {
        /* Delegate the cgroup subtree to the scope (podman with
         * --cgroups=split, or any engine managing its own cgroups). */
        FLAKE_SCOPE_DELEGATE = 1 << 0,
        /* Force the user manager even for root (tests, user flakes). */
        FLAKE_SCOPE_USER     = 1 << 1,
} FlakeScopeFlags;

/* "flake-<escaped instance>-<pid>.scope", instance being "app" or
 * "app@id". Returns a new string. */
char *flake_scope_unit_name(const char *flake_name, const char *instance, pid_t pid);

/* Moves pid (0: the caller) into a new transient scope named by
 * flake_scope_unit_name(). instance may be NULL, engine is free text for the
 * description ("podman", "firecracker"). On success the unit name is
 * returned in ret_unit (may be NULL). */
int flake_scope_enter(const char *flake_name, const char *instance, const char *engine,
                      pid_t pid, FlakeScopeFlags flags, char **ret_unit);

/* Where a container that outlives its launches (resume) lives:
 * "flake-<escaped instance>-container.scope", one per instance, so that
 * "systemctl status/stop" reach it by a name an admin can guess. (Scopes
 * cannot be template instances, so no '@'.) Escaped instance names hold no
 * '-', and a launch's scope ends in "-<pid>", so the two never collide.
 * Returns a new string. */
char *flake_container_scope_unit_name(const char *instance);

/* As flake_scope_enter(), for the scope named by
 * flake_container_scope_unit_name(). */
int flake_scope_enter_container(const char *instance, const char *engine, pid_t pid,
                                FlakeScopeFlags flags, char **ret_unit);
