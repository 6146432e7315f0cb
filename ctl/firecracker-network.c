/* SPDX-License-Identifier: MIT */
/* flake-ctl firecracker network init|add|remove|show: the network settings
 * of VM flakes (vm.runtime.network, see network-config.h) and the defaults
 * "add" takes them from (TEMPLATE_DIR/network.yml). flake-tap@.service
 * applies them on the host. */

#include <getopt.h>

#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "netlink-route.h"
#include "network-config.h"
#include "registration.h"
#include "strv.h"
#include "table.h"
#include "tap-name.h"

typedef struct NetworkArgs {
        const char *app;                /* --app PATH or NAME */
        const char *mode;
        const char *uplink;
        const char *pool;
        const char *host_address;
        const char *guest_address;
        const char *bridge;
        const char *mac;
        const char *format;
        char **nameservers;
} NetworkArgs;

static void help_network(void) {
        printf("Usage: flake-ctl firecracker network init --uplink IFACE [--pool CIDR] [--nameserver ADDR]...\n"
               "       flake-ctl firecracker network add (--app PATH | NAME) [--mode nat|bridge|user] [--uplink IFACE]\n"
               "                 [--host-address A.B.C.D/N --guest-address A.B.C.D/N] [--bridge BRIDGE]\n"
               "                 [--nameserver ADDR]... [--mac MAC]\n"
               "       flake-ctl firecracker network remove (--app PATH | NAME)\n"
               "       flake-ctl firecracker network show [NAME] [--format table|json|csv]\n\n"
               "Without addresses, add picks a free /30 from the pool (default " NETWORK_DEFAULT_POOL ").\n"
               "See flake-ctl-firecracker-network(8).\n");
}

static int parse_args(int argc, char *argv[], NetworkArgs *a) {
        enum { ARG_APP = 0x100, ARG_MODE, ARG_UPLINK, ARG_POOL, ARG_HOST, ARG_GUEST, ARG_BRIDGE,
               ARG_NAMESERVER, ARG_MAC, ARG_FORMAT };
        static const struct option options[] = {
                { "help",          no_argument,       NULL, 'h' },
                { "app",           required_argument, NULL, ARG_APP },
                { "mode",          required_argument, NULL, ARG_MODE },
                { "uplink",        required_argument, NULL, ARG_UPLINK },
                { "pool",          required_argument, NULL, ARG_POOL },
                { "host-address",  required_argument, NULL, ARG_HOST },
                { "guest-address", required_argument, NULL, ARG_GUEST },
                { "bridge",        required_argument, NULL, ARG_BRIDGE },
                { "nameserver",    required_argument, NULL, ARG_NAMESERVER },
                { "mac",           required_argument, NULL, ARG_MAC },
                { "format",        required_argument, NULL, ARG_FORMAT },
                {}
        };
        int c;

        optind = 0;
        while ((c = ctl_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h':
                        help_network();
                        return 1;
                case ARG_APP:           a->app = optarg; break;
                case ARG_MODE:          a->mode = optarg; break;
                case ARG_UPLINK:        a->uplink = optarg; break;
                case ARG_POOL:          a->pool = optarg; break;
                case ARG_HOST:          a->host_address = optarg; break;
                case ARG_GUEST:         a->guest_address = optarg; break;
                case ARG_BRIDGE:        a->bridge = optarg; break;
                case ARG_MAC:           a->mac = optarg; break;
                case ARG_FORMAT:        a->format = optarg; break;
                case ARG_NAMESERVER:    strv_extend(&a->nameservers, optarg); break;
                default:
                        return -EINVAL;
                }
        /* NAME may be given without --app, as upstream's post-snapshot tool does. */
        if (optind < argc && !a->app)
                a->app = argv[optind++];
        if (optind < argc)
                return ctl_usage_error("network: unexpected argument '%s'", argv[optind]);
        return 0;
}

static int network_init(Ctl *ctl, const NetworkArgs *a) {
        _cleanup_(network_defaults_done) NetworkDefaults d = {};
        _cleanup_free_ char *path = network_defaults_path();
        int r;

        if (!a->uplink)
                return ctl_usage_error("network init: --uplink is required");
        if (!network_ifname_is_valid(a->uplink))
                return ctl_usage_error("--uplink: '%s' is not a valid interface name", a->uplink);
        STRV_FOREACH(ns, a->nameservers)
                if (in_addr_prefix_from_string(*ns, 32, &(InAddrPrefix) {}) < 0 || strchr(*ns, '/'))
                        return ctl_usage_error("--nameserver: '%s' is not an IPv4 address", *ns);

        r = network_defaults_load(&d);
        if (r < 0)
                return r;
        free(d.uplink);
        d.uplink = xstrdup(a->uplink);
        if (a->pool && (in_addr_prefix_from_string(a->pool, 0xff, &d.pool) < 0 || d.pool.prefixlen > 30))
                return ctl_usage_error("--pool: '%s' is not an IPv4 network of /30 or larger (A.B.C.D/N)", a->pool);
        if (a->nameservers) {
                strv_free(d.nameservers);
                d.nameservers = strv_copy(a->nameservers);
        }
        r = network_defaults_save(&d);
        if (r < 0)
                return r;
        printf("Network defaults written to %s (uplink %s).\n", path, d.uplink);
        return 0;
}

/* Allocation must avoid the addresses of other flakes and every host route
 * except those of this flake's own TAPs (re-adding a running flake). */
static int pick_addresses(Ctl *ctl, const char *name, const InAddrPrefix *pool, NetworkConfig *c) {
        _cleanup_free_ InAddrPrefix *used = NULL, *routes = NULL;
        _cleanup_free_ char *tap = tap_name_for_instance(name);
        size_t n_used, n_routes;
        int r;

        r = network_collect_used(ctl->config.flakes_dir, name, &used, &n_used);
        if (r < 0)
                return r;
        r = netlink_host_routes(tap, &routes, NULL, &n_routes);
        if (r < 0)
                return r;

        if (c->host_address.prefixlen > 0) {
                _cleanup_free_ char *s = in_addr_prefix_to_string(&c->host_address);

                for (size_t i = 0; i < n_used; i++)
                        if (in_addr_prefix_overlaps(&c->host_address, &used[i]))
                                return log_error_errno(SYNTHETIC_ERRNO(EADDRINUSE),
                                                       "--host-address: %s overlaps the network of another flake", s);
                for (size_t i = 0; i < n_routes; i++)
                        if (in_addr_prefix_overlaps(&c->host_address, &routes[i]))
                                return log_error_errno(SYNTHETIC_ERRNO(EADDRINUSE),
                                                       "--host-address: %s overlaps an existing host route", s);
                return 0;
        }

        used = xrealloc(used, (n_used + n_routes + 1) * sizeof(*used));
        memcpy(used + n_used, routes, n_routes * sizeof(*routes));
        r = network_allocate(pool, used, n_used + n_routes, &c->host_address, &c->guest_address);
        if (r == -ENOSPC) {
                _cleanup_free_ char *p = in_addr_prefix_to_string(pool);
                return log_error_errno(r, "No free /30 left in the pool %s (choose another with 'network init --pool').", p);
        }
        return r;
}

static int build_config(Ctl *ctl, const NetworkArgs *a, const char *name, NetworkConfig *c) {
        _cleanup_(network_defaults_done) NetworkDefaults d = {};
        int r;

        r = network_defaults_load(&d);
        if (r < 0)
                return r;

        c->mode = a->mode ? network_mode_from_string(a->mode) : (a->bridge ? NETWORK_MODE_BRIDGE : NETWORK_MODE_NAT);
        if (c->mode < 0)
                return ctl_usage_error("--mode: '%s' is not nat, bridge or user", a->mode);
        c->mac = a->mac ? xstrdup(a->mac) : NULL;
        c->nameservers = strv_copy(a->nameservers ?: d.nameservers);

        if (c->mode == NETWORK_MODE_USER) {
                if (a->bridge || a->uplink || a->host_address || a->guest_address)
                        return ctl_usage_error("network add: --bridge, --uplink and addresses are not used in user mode "
                                               "(QEMU's own network: the guest is " NETWORK_USER_GUEST ")");
                return network_config_verify(c, "network add");
        }
        if (c->mode == NETWORK_MODE_BRIDGE) {
                if (!a->bridge)
                        return ctl_usage_error("network add: bridge mode needs --bridge");
                if (a->uplink || a->host_address || a->guest_address)
                        return ctl_usage_error("network add: --uplink and addresses are not used in bridge mode (the guest uses DHCP)");
                c->bridge = xstrdup(a->bridge);
                return network_config_verify(c, "network add");
        }

        if (a->bridge)
                return ctl_usage_error("--bridge is only used in bridge mode");
        if (!a->uplink && !d.uplink)
                return ctl_usage_error("network add: no uplink: give --uplink or run 'flake-ctl firecracker network init --uplink IFACE'");
        c->uplink = xstrdup(a->uplink ?: d.uplink);
        if (!!a->host_address != !!a->guest_address)
                return ctl_usage_error("network add: give both --host-address and --guest-address, or neither");
        if (a->host_address && in_addr_prefix_from_string(a->host_address, 0xff, &c->host_address) < 0)
                return ctl_usage_error("--host-address: '%s' is not A.B.C.D/N", a->host_address);
        if (a->guest_address && in_addr_prefix_from_string(a->guest_address, 0xff, &c->guest_address) < 0)
                return ctl_usage_error("--guest-address: '%s' is not A.B.C.D/N", a->guest_address);
        if (a->host_address) {
                r = network_config_verify(c, "network add");
                if (r < 0)
                        return r;
        }
        r = pick_addresses(ctl, name, &d.pool, c);
        if (r < 0)
                return r;
        return network_config_verify(c, "network add");
}

static int store_network(YamlDocument *doc, const void *userdata) {
        return network_config_store(doc, userdata);
}

static int network_add(Ctl *ctl, const NetworkArgs *a) {
        _cleanup_(network_config_freep) NetworkConfig *c = xmalloc(sizeof(NetworkConfig));
        _cleanup_(flake_freep) Flake *f = NULL;
        _cleanup_free_ char *name = NULL, *tap = NULL;
        _cleanup_close_ int lock = -EBADF;
        int r;

        *c = (NetworkConfig) {};
        r = ctl_vm_flake_name("network", a->app, &name);
        if (r < 0)
                return r;
        lock = ctl_lock_flakes_dir(ctl);
        if (lock < 0)
                return lock;
        r = ctl_load_vm_flake(ctl, name, "a network", &f);
        if (r < 0)
                return r;
        r = build_config(ctl, a, name, c);
        if (r < 0)
                return r;
        r = ctl_edit_registration(ctl, name, store_network, c);
        if (r < 0)
                return r;

        tap = tap_name_for_instance(name);
        if (c->mode == NETWORK_MODE_NAT) {
                _cleanup_free_ char *h = in_addr_prefix_to_string(&c->host_address);
                _cleanup_free_ char *g = in_addr_prefix_to_string(&c->guest_address);
                printf("%s: nat via %s, host %s, guest %s, device %s\n", name, c->uplink, h, g, tap);
        } else if (c->mode == NETWORK_MODE_BRIDGE)
                printf("%s: bridge %s, guest uses DHCP, device %s\n", name, c->bridge, tap);
        else
                printf("%s: user (QEMU's own network, no device), guest %s, host %s\n", name,
                       NETWORK_USER_GUEST, NETWORK_USER_HOST);
        return 0;
}

static int network_remove(Ctl *ctl, const NetworkArgs *a) {
        _cleanup_(flake_freep) Flake *f = NULL;
        _cleanup_(network_config_freep) NetworkConfig *c = NULL;
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int lock = -EBADF;
        int r;

        r = ctl_vm_flake_name("network", a->app, &name);
        if (r < 0)
                return r;
        lock = ctl_lock_flakes_dir(ctl);
        if (lock < 0)
                return lock;
        r = ctl_load_vm_flake(ctl, name, "a network", &f);
        if (r < 0)
                return r;
        /* A broken network section is exactly what remove must be able to fix. */
        if (network_config_from_flake(f, &c) >= 0 && !c) {
                printf("%s has no network settings.\n", name);
                return 0;
        }
        r = ctl_edit_registration(ctl, name, store_network, NULL);
        if (r < 0)
                return r;
        printf("Removed the network settings of %s (a running flake-tap@%s.service keeps its device until stopped).\n",
               name, name);
        return 0;
}

static int network_show(Ctl *ctl, const NetworkArgs *a) {
        static const TableColumn columns[] = {
                { "NAME", "name", 0 }, { "MODE", "mode", 0 }, { "UPLINK/BRIDGE", "link", 0 },
                { "HOST", "host_address", 0 }, { "GUEST", "guest_address", 0 },
                { "DEVICE", "device", 0 }, { "NAMESERVER", "nameserver", 0 },
        };
        _cleanup_(table_freep) Table *t = table_new(columns, ELEMENTSOF(columns));
        _cleanup_strv_free_ char **names = NULL;
        OutputFormat format = a->format ? output_format_from_string(a->format) : OUTPUT_TABLE;
        int r;

        if (format < 0)
                return ctl_usage_error("--format: '%s' is not table, json or csv", a->format);
        if (a->app) {
                _cleanup_(flake_freep) Flake *f = NULL;
                _cleanup_free_ char *name = NULL;

                r = ctl_vm_flake_name("network", a->app, &name);
                if (r < 0)
                        return r;
                r = ctl_load_vm_flake(ctl, name, "a network", &f);
                if (r < 0)
                        return r;
                strv_extend(&names, name);
        } else {
                r = flake_list_names(ctl->config.flakes_dir, &names);
                if (r < 0)
                        return log_error_errno(r, "Failed to list %s: %s", ctl->config.flakes_dir, strerror(-r));
        }

        STRV_FOREACH(name, names) {
                _cleanup_(flake_freep) Flake *f = NULL;
                _cleanup_(network_config_freep) NetworkConfig *c = NULL;
                _cleanup_free_ char *h = NULL, *g = NULL, *tap = NULL, *ns = NULL;
                FlakeDiagnostics diag = {};

                r = flake_load(ctl->config.flakes_dir, *name, &f, &diag);
                flake_diagnostics_done(&diag);
                if (r < 0 || f->engine != FLAKE_ENGINE_FIRECRACKER)
                        continue;
                if (network_config_from_flake(f, &c) < 0 || !c)
                        continue;
                tap = tap_name_for_instance(*name);
                ns = strv_join(c->nameservers, " ");
                if (c->mode == NETWORK_MODE_NAT) {
                        h = in_addr_prefix_to_string(&c->host_address);
                        g = in_addr_prefix_to_string(&c->guest_address);
                } else if (c->mode == NETWORK_MODE_USER) {
                        h = xstrdup(NETWORK_USER_HOST);
                        g = xstrdup(NETWORK_USER_GUEST);
                }
                table_add_row(t, (const char *[]) {
                        *name, network_mode_to_string(c->mode),
                        c->mode == NETWORK_MODE_NAT ? c->uplink : c->bridge,
                        h, g, network_config_needs_tap(c) ? tap : NULL, isempty(ns) ? NULL : ns });
        }
        return table_print(t, format, "VM flake networks", "No VM flake has network settings.", stdout);
}

int verb_firecracker_network(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_strv_free_ char **nameservers = NULL;
        NetworkArgs a = {};
        const char *sub;
        int r;

        if (argc < 2 || streq(argv[1], "-h") || streq(argv[1], "--help")) {
                help_network();
                return argc < 2 ? ctl_usage_error("network: missing command (init, add, remove, show)") : 0;
        }
        if (ctl_arg_is_version(argv[1]))
                return ctl_print_version();
        sub = argv[1];
        r = parse_args(argc - 1, argv + 1, &a);
        nameservers = a.nameservers;
        if (r != 0)
                return r < 0 ? r : 0;

        r = ctl_load_config(ctl);
        if (r < 0)
                return r;

        if (streq(sub, "init"))
                return network_init(ctl, &a);
        if (streq(sub, "add"))
                return network_add(ctl, &a);
        if (streq(sub, "remove"))
                return network_remove(ctl, &a);
        if (streq(sub, "show"))
                return network_show(ctl, &a);
        return ctl_usage_error("network: unknown command '%s' (init, add, remove, show)", sub);
}
