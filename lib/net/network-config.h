/* SPDX-License-Identifier: MIT */
#pragma once

/* The network settings of a VM flake: vm.runtime.network in its YAML.
 *
 *   vm:
 *     runtime:
 *       network:
 *         mode: nat                     # nat (default) | bridge | user
 *         uplink: eth0                  # nat: the interface guests reach the world through
 *         host_address: 172.16.0.1/30   # nat: put on the TAP; the guest's gateway
 *         guest_address: 172.16.0.2/30  # nat: the guest's eth0, same network
 *         bridge: br0                   # bridge: existing bridge the TAP joins; guest uses DHCP
 *                                       # user: QEMU's user-mode network (no TAP, no privileges)
 *         nameserver: [192.0.2.53]      # optional, one address or a list
 *         mac: AA:FC:00:00:00:01        # optional guest MAC (VMM default otherwise)
 *
 * A missing or null "network" means the flake has no network (the default
 * since upstream PR 118). Defaults for "flake-ctl firecracker network add"
 * live in TEMPLATE_DIR/network.yml (see network_defaults_load()). */

#include <stdbool.h>
#include <stddef.h>

#include "flake.h"
#include "in-addr.h"
#include "yaml-tree.h"

typedef enum NetworkMode {
        NETWORK_MODE_NAT,
        NETWORK_MODE_BRIDGE,
        NETWORK_MODE_USER,      /* FLAKE_NETWORK_MODE_USER (flake.h) */
        _NETWORK_MODE_MAX,
        _NETWORK_MODE_INVALID = -EINVAL,
} NetworkMode;

const char *network_mode_to_string(NetworkMode m);
NetworkMode network_mode_from_string(const char *s);

/* User mode: QEMU's own NAT (libslirp) inside the VMM process, with the
 * addresses given explicitly on its -netdev (these are QEMU's defaults):
 * no TAP, no flake-tap@, nothing a user may not do. Outbound connections
 * only; the host is NETWORK_USER_HOST to the guest (its loopback). */
#define NETWORK_USER_NET "10.0.2.0/24"
#define NETWORK_USER_GUEST "10.0.2.15"
#define NETWORK_USER_HOST "10.0.2.2"
#define NETWORK_USER_DNS "10.0.2.3"
#define NETWORK_USER_NETMASK "255.255.255.0"
/* QEMU's -netdev user options for these. */
#define NETWORK_USER_NETDEV "net=" NETWORK_USER_NET ",host=" NETWORK_USER_HOST ",dns=" NETWORK_USER_DNS

typedef struct NetworkConfig {
        NetworkMode mode;
        char *uplink;                   /* nat */
        InAddrPrefix host_address;      /* nat */
        InAddrPrefix guest_address;     /* nat */
        char *bridge;                   /* bridge */
        char **nameservers;             /* dotted quads, may be NULL */
        char *mac;                      /* NULL: the VMM's default */
} NetworkConfig;

/* Whether c needs a TAP from flake-tap (nat and bridge do, user does not). */
static inline bool network_config_needs_tap(const NetworkConfig *c) {
        return c && c->mode != NETWORK_MODE_USER;
}

NetworkConfig *network_config_free(NetworkConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(NetworkConfig *, network_config_free);

/* Interface names we accept: 1..15 bytes of [A-Za-z0-9_.@-], not "." or "..".
 * Stricter than the kernel so a name is always safe in an nft ruleset. */
bool network_ifname_is_valid(const char *name);

/* Checks a complete configuration (mode-specific keys present, addresses in
 * one network, ...). Logs one line naming the problem and returns -EINVAL. */
int network_config_verify(const NetworkConfig *c, const char *where);

/* Parses a "network" mapping. A null/missing node gives *ret = NULL and 0.
 * Errors are logged as "FILE:LINE: message" and return -EBADMSG. */
int network_config_parse(const YamlNode *node, NetworkConfig **ret);
/* The same for vm.runtime.network of a loaded flake (podman flakes: none). */
int network_config_from_flake(const Flake *f, NetworkConfig **ret);
/* Only checks it: the first problem goes to *ret_error ("FILE:LINE: ...")
 * instead of the log (flake-ctl verify prints it with the others). */
int network_config_check_flake(const Flake *f, char **ret_error);

/* Writes c as vm.runtime.network into doc (creating vm.runtime as needed);
 * c == NULL sets it to null (no network). Returns -EINVAL if doc has no
 * "vm" mapping. */
int network_config_store(YamlDocument *doc, const NetworkConfig *c);

/* The guest kernel arguments for c, to append to the flake's boot_args after
 * dropping the ones network_boot_arg_is_network() matches there:
 *   nat:    "ip=GUEST::GATEWAY:NETMASK::eth0:off" and "nameserver=X" per nameserver
 *   bridge: "ip=dhcp" and "nameserver=X" per nameserver
 *   user:   "ip=NETWORK_USER_GUEST::NETWORK_USER_HOST:...::eth0:off" and the
 *           nameservers, else "nameserver=NETWORK_USER_DNS" (QEMU's
 *           forwarder to the host's resolver)
 * c == NULL (no network) gives an empty list. tap is the host device the
 * guest's eth0 is attached to; it is only used in the debug log. */
int network_config_boot_args(const NetworkConfig *c, const char *tap, char ***ret);
/* ip=, nameserver=, rd.route= and rd.neednet= arguments. */
bool network_boot_arg_is_network(const char *arg);

/* The TAP device of an instance ("app" or "app@id"); the same name
 * flake-tap@INSTANCE.service creates. Returns -EINVAL for invalid names. */
int network_tap_name(const char *instance, char **ret);

/* ---- defaults and address allocation (flake-ctl firecracker network) ---- */

#define NETWORK_DEFAULT_POOL "172.16.0.0/16"

typedef struct NetworkDefaults {
        char *uplink;                   /* NULL: none chosen yet */
        InAddrPrefix pool;              /* /30 blocks are taken from here */
        char **nameservers;
} NetworkDefaults;

void network_defaults_done(NetworkDefaults *d);
/* TEMPLATE_DIR/network.yml, a new string. */
char *network_defaults_path(void);
/* Loads the defaults file; a missing file gives the built-in defaults
 * (pool 172.16.0.0/16, no uplink, no nameservers). */
int network_defaults_load(NetworkDefaults *ret);
int network_defaults_save(const NetworkDefaults *d);

/* The host networks of every registered flake in dir with a nat network,
 * except the one called skip_name (may be NULL). Unloadable flakes are
 * skipped with a warning: one broken file must not block the others. */
int network_collect_used(const char *dir, const char *skip_name, InAddrPrefix **ret, size_t *ret_n);

/* Picks the first /30 of pool that overlaps none of used[]: host gets the
 * first usable address, the guest the second. -ENOSPC if the pool is full. */
int network_allocate(const InAddrPrefix *pool, const InAddrPrefix *used, size_t n_used,
                     InAddrPrefix *ret_host, InAddrPrefix *ret_guest);
