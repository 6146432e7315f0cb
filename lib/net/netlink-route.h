/* SPDX-License-Identifier: MIT */
#pragma once

/* The host's IPv4 routes, read over rtnetlink with libnl-route-3: what the
 * network settings of a flake must not collide with. */

#include <stddef.h>

#include "in-addr.h"

/* libnl's NLE_* codes are not errnos: maps the ones callers act on
 * (EPERM, ENOMEM, ENODEV, EEXIST, EBUSY) and the rest to EIO. */
int nle_to_errno(int nle);

/* Every IPv4 route of the main and local tables with a prefix length > 0
 * (the default route overlaps everything and says nothing), except routes
 * through ignore_ifname (may be NULL). ret_ifnames (may be NULL) gets the
 * device of each route, "" if none. */
int netlink_host_routes(const char *ignore_ifname, InAddrPrefix **ret, char ***ret_ifnames, size_t *ret_n);

/* Is any of those routes overlapping p? Returns 1 and "A.B.C.D/N dev IF"
 * in ret_what (may be NULL), 0 if none, a negative errno on failure. */
int netlink_route_conflict(const InAddrPrefix *p, const char *ignore_ifname, char **ret_what);
