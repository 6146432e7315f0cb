/* SPDX-License-Identifier: MIT */
#pragma once

/* The guest network from the kernel command line (sci(8), NETWORK).
 *
 * Debian's and many other distribution kernels are built without
 * CONFIG_IP_PNP, so the kernel ignores ip=, and images run by sci have no
 * dracut to apply it either: sci does it before anything else runs.
 *
 *   ip=<client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>[:<dns0>:<dns1>]
 *   ip=dhcp | ip=<device>:dhcp
 *   nameserver=<addr>                          (repeatable)
 *   rd.route=<net>/<prefix>:[<gateway>][:<device>]   (repeatable)
 *
 * The parsers are pure functions (unit-tested); sci_net_apply() and
 * sci_net_write_resolv() act on the running system. */

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define SCI_NET_DNS_MAX 4
#define SCI_NET_ROUTES_MAX 8

typedef struct SciRoute {
        struct in_addr net;
        unsigned prefixlen;
        struct in_addr gateway;         /* INADDR_ANY: on-link */
        char device[IFNAMSIZ];          /* empty: the ip= device */
} SciRoute;

typedef struct SciNetConfig {
        bool configured;                /* an ip= other than off/none was given */
        bool dhcp;
        struct in_addr address;
        struct in_addr netmask;
        struct in_addr gateway;         /* INADDR_ANY: no default route */
        char hostname[65];
        char device[IFNAMSIZ];          /* empty: the first interface that is not lo */
        struct in_addr dns[SCI_NET_DNS_MAX];
        size_t n_dns;
        SciRoute routes[SCI_NET_ROUTES_MAX];
        size_t n_routes;
} SciNetConfig;

/* Parses the value of ip= into c (replacing what an earlier ip= set, as the
 * kernel does; nameservers from its dns fields are added). Returns 0,
 * -EINVAL for a malformed value (c's ip fields then untouched), or
 * -EOPNOTSUPP for autoconf methods sci cannot do (bootp, rarp, dhcp6, ...). */
int sci_net_parse_ip(const char *value, SciNetConfig *c);

/* nameserver=ADDR: -EINVAL unless a dotted quad, -E2BIG when full. */
int sci_net_add_nameserver(SciNetConfig *c, const char *value);

/* rd.route=NET/PREFIX:[GATEWAY][:DEVICE] (dracut's form). NET is reduced to
 * its network address. -EINVAL when malformed, -E2BIG when full. */
int sci_net_add_route(SciNetConfig *c, const char *value);

/* The ip=, nameserver= and rd.route= words of a kernel command line, for
 * sci_cmdline_foreach(); bad values are logged and skipped. */
void sci_net_cmdline_cb(const char *key, const char *value, void *userdata);

/* Brings lo up and, if c->configured, the device with its address, netmask,
 * default route, extra routes and hostname (or runs udhcpc for ip=dhcp with
 * script as its event script). Logs every problem itself; returns -ENODEV
 * when the device does not exist, another negative errno when a step failed,
 * 0 otherwise. */
int sci_net_apply(const SciNetConfig *c, const char *script);

/* Writes c's nameservers to /etc/resolv.conf, or when / is read-only to
 * /run/sci/resolv.conf bind-mounted over it. Nothing to do without
 * nameservers. Logs problems itself. */
int sci_net_write_resolv(const SciNetConfig *c);

/* sci as udhcpc's event script (udhcpc -s): event is argv[1], the lease is
 * in the environment (interface, ip, subnet, router, dns, hostname). */
bool sci_net_is_udhcpc_event(const char *event);
int sci_net_udhcpc_event(const char *event);
