/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <ctype.h>
#include <net/if.h>
#include <stdarg.h>

#include "fileio.h"
#include "log.h"
#include "names.h"
#include "network-config.h"
#include "paths.h"
#include "strv.h"
#include "tap-name.h"

static const char * const mode_names[_NETWORK_MODE_MAX] = {
        [NETWORK_MODE_NAT] = "nat",
        [NETWORK_MODE_BRIDGE] = "bridge",
        [NETWORK_MODE_USER] = FLAKE_NETWORK_MODE_USER,
};

DEFINE_STRING_TABLE_LOOKUP(network_mode, NetworkMode, mode_names, _NETWORK_MODE_INVALID);

NetworkConfig *network_config_free(NetworkConfig *c) {
        if (!c)
                return NULL;
        free(c->uplink);
        free(c->bridge);
        strv_free(c->nameservers);
        free(c->mac);
        free(c);
        return NULL;
}

bool network_ifname_is_valid(const char *name) {
        if (isempty(name) || strlen(name) >= IFNAMSIZ || streq(name, ".") || streq(name, ".."))
                return false;
        for (const char *p = name; *p; p++)
                if (!isascii(*p) || !(isalnum(*p) || strchr("_.@-", *p)))
                        return false;
        return true;
}

static bool mac_is_valid(const char *s) {
        bool zero = true;

        /* Six colon-separated hex pairs, unicast (the guest's own NIC; the
         * group bit also covers broadcast), and not 00:00:00:00:00:00,
         * which no NIC may have. */
        if (strlen(s) != 17)
                return false;
        for (size_t i = 0; i < 17; i++) {
                if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char) s[i]))
                        return false;
                zero = zero && (i % 3 == 2 || s[i] == '0');
        }
        return !zero && (strtoul(s, NULL, 16) & 1) == 0;
}

static bool nameserver_is_valid(const char *s) {
        struct in_addr a;

        return inet_pton(AF_INET, s, &a) == 1;
}

/* Where network_config_check_flake() wants the message instead of the log. */
static _Thread_local char **error_sink;

static int report(int error, char *msg) {
        if (error_sink) {
                if (!*error_sink)
                        *error_sink = msg;
                else
                        free(msg);
                return -error;
        }
        log_error_errno(error, "%s", msg);
        free(msg);
        return -error;
}

static int verify_error(const char *where, const char *fmt, ...) _printf_(2, 3);
static int verify_error(const char *where, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        return report(EINVAL, xasprintf("%s: %s", where, msg));
}

int network_config_verify(const NetworkConfig *c, const char *where) {
        STRV_FOREACH(ns, c->nameservers)
                if (!nameserver_is_valid(*ns))
                        return verify_error(where, "nameserver '%s' is not an IPv4 address", *ns);
        if (c->mac && !mac_is_valid(c->mac))
                return verify_error(where, "mac '%s' is not a unicast MAC address (xx:xx:xx:xx:xx:xx)", c->mac);

        if (c->mode == NETWORK_MODE_USER) {
                if (c->uplink || c->bridge || c->host_address.prefixlen || c->guest_address.prefixlen)
                        return verify_error(where, "uplink, bridge, host_address and guest_address are not used in user mode "
                                            "(QEMU's own network: the guest is " NETWORK_USER_GUEST ", the host " NETWORK_USER_HOST ")");
                return 0;
        }
        if (c->mode == NETWORK_MODE_BRIDGE) {
                if (!c->bridge)
                        return verify_error(where, "bridge mode needs 'bridge'");
                if (!network_ifname_is_valid(c->bridge))
                        return verify_error(where, "bridge '%s' is not a valid interface name", c->bridge);
                if (c->uplink || c->host_address.prefixlen || c->guest_address.prefixlen)
                        return verify_error(where, "uplink, host_address and guest_address are not used in bridge mode (the guest uses DHCP)");
                return 0;
        }

        if (!c->uplink)
                return verify_error(where, "nat mode needs 'uplink' (run 'flake-ctl firecracker network init --uplink IFACE' or give --uplink)");
        if (!network_ifname_is_valid(c->uplink))
                return verify_error(where, "uplink '%s' is not a valid interface name", c->uplink);
        if (c->bridge)
                return verify_error(where, "'bridge' is only used in bridge mode");
        if (c->host_address.prefixlen == 0 || c->guest_address.prefixlen == 0)
                return verify_error(where, "nat mode needs host_address and guest_address (A.B.C.D/N)");
        if (c->host_address.prefixlen != c->guest_address.prefixlen ||
            !in_addr_prefix_overlaps(&c->host_address, &c->guest_address))
                return verify_error(where, "host_address and guest_address must be in the same network");
        if (c->host_address.prefixlen > 30)
                return verify_error(where, "the host/guest network must be /30 or larger");
        if (c->host_address.address.s_addr == c->guest_address.address.s_addr)
                return verify_error(where, "host_address and guest_address must differ");
        for (const InAddrPrefix *p = &c->host_address; p; p = p == &c->host_address ? &c->guest_address : NULL) {
                uint32_t host_bits = ntohl(p->address.s_addr) & ~ntohl(in_addr_netmask(p->prefixlen).s_addr);

                if (host_bits == 0 || host_bits == ~ntohl(in_addr_netmask(p->prefixlen).s_addr)) {
                        _cleanup_free_ char *s = in_addr_prefix_to_string(p);
                        return verify_error(where, "%s is the network or broadcast address", s);
                }
        }
        return 0;
}

static int node_error(const YamlNode *n, const char *fmt, ...) _printf_(2, 3);
static int node_error(const YamlNode *n, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        return report(EBADMSG, xasprintf("%s:%u: vm.runtime.network: %s", strna(n->file), n->line, msg));
}

static int get_string(const YamlNode *n, const char *key, char **ret) {
        const char *s;
        int r;

        r = yaml_node_get_string(n, &s);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || isempty(s))
                return node_error(n, "'%s' must be a non-empty string", key);
        *ret = xstrdup(s);
        return 0;
}

static int get_prefix(const YamlNode *n, const char *key, InAddrPrefix *ret) {
        const char *s;
        int r;

        r = yaml_node_get_string(n, &s);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || in_addr_prefix_from_string(s, 0xff, ret) < 0 || ret->prefixlen == 0)
                return node_error(n, "'%s' must be an IPv4 address with prefix length (A.B.C.D/N)", key);
        return 0;
}

int network_config_parse(const YamlNode *node, NetworkConfig **ret) {
        _cleanup_(network_config_freep) NetworkConfig *c = NULL;
        _cleanup_free_ char *where = NULL;

        if (yaml_node_is_null(node)) {
                *ret = NULL;
                return 0;
        }
        if (node->type != YAML_NODE_MAPPING)
                return node_error(node, "must be a mapping, not a %s", yaml_type_to_string(node->type));

        c = xmalloc(sizeof(*c));
        *c = (NetworkConfig) { .mode = NETWORK_MODE_NAT };

        for (size_t i = 0; i < node->n_items; i++) {
                const char *k = node->keys[i];
                const YamlNode *v = node->items[i];
                int r = 0;      /* not every key sets it ("mode" does not) */

                if (streq(k, "mode")) {
                        const char *s;

                        if (yaml_node_get_string(v, &s) < 0 || network_mode_from_string(s) < 0)
                                return node_error(v, "mode must be 'nat', 'bridge' or 'user'");
                        c->mode = network_mode_from_string(s);
                } else if (streq(k, "uplink"))
                        r = get_string(v, k, &c->uplink);
                else if (streq(k, "bridge"))
                        r = get_string(v, k, &c->bridge);
                else if (streq(k, "mac"))
                        r = get_string(v, k, &c->mac);
                else if (streq(k, "host_address"))
                        r = get_prefix(v, k, &c->host_address);
                else if (streq(k, "guest_address"))
                        r = get_prefix(v, k, &c->guest_address);
                else if (streq(k, "nameserver")) {
                        r = yaml_node_get_string_list(v, &c->nameservers);
                        if (r == -EINVAL)
                                return node_error(v, "nameserver must be an address or a list of addresses");
                        r = 0;
                } else
                        return node_error(v, "unknown key '%s'", k);
                if (r < 0)
                        return r;
        }

        where = xasprintf("%s:%u: vm.runtime.network", strna(node->file), node->line);
        if (network_config_verify(c, where) < 0)
                return -EBADMSG;

        *ret = TAKE_PTR(c);
        return 0;
}

int network_config_from_flake(const Flake *f, NetworkConfig **ret) {
        if (f->engine != FLAKE_ENGINE_FIRECRACKER || !f->doc) {
                *ret = NULL;
                return 0;
        }
        return network_config_parse(yaml_lookup(f->doc->root, "vm.runtime.network"), ret);
}

int network_config_check_flake(const Flake *f, char **ret_error) {
        _cleanup_(network_config_freep) NetworkConfig *c = NULL;
        char *error = NULL;
        int r;

        error_sink = &error;
        r = network_config_from_flake(f, &c);
        error_sink = NULL;
        if (r < 0 && !error)
                error = xasprintf("%s: vm.runtime.network: %s", f->path, strerror(-r));
        *ret_error = error;
        return r;
}

int network_config_store(YamlDocument *doc, const NetworkConfig *c) {
        YamlNode *vm, *runtime, *n;

        vm = doc->root ? yaml_mapping_get(doc->root, "vm") : NULL;
        if (!vm || vm->type != YAML_NODE_MAPPING)
                return -EINVAL;
        runtime = yaml_mapping_ensure(vm, "runtime");
        if (!runtime)
                return -EINVAL;
        if (!c) {
                yaml_mapping_set(runtime, "network", yaml_node_new(YAML_NODE_NULL));
                return 0;
        }

        n = yaml_node_new(YAML_NODE_MAPPING);
        yaml_mapping_set(n, "mode", yaml_node_new_scalar(network_mode_to_string(c->mode), false));
        if (c->mode == NETWORK_MODE_NAT) {
                _cleanup_free_ char *h = in_addr_prefix_to_string(&c->host_address);
                _cleanup_free_ char *g = in_addr_prefix_to_string(&c->guest_address);

                yaml_mapping_set(n, "uplink", yaml_node_new_scalar(c->uplink, false));
                yaml_mapping_set(n, "host_address", yaml_node_new_scalar(h, false));
                yaml_mapping_set(n, "guest_address", yaml_node_new_scalar(g, false));
        } else if (c->mode == NETWORK_MODE_BRIDGE)
                yaml_mapping_set(n, "bridge", yaml_node_new_scalar(c->bridge, false));
        if (strv_length(c->nameservers) > 0)
                yaml_mapping_set(n, "nameserver", yaml_node_new_string_list(c->nameservers));
        if (c->mac)
                yaml_mapping_set(n, "mac", yaml_node_new_scalar(c->mac, true));
        yaml_mapping_set(runtime, "network", n);
        return 0;
}

int network_config_boot_args(const NetworkConfig *c, const char *tap, char ***ret) {
        _cleanup_strv_free_ char **l = xmalloc(sizeof(char *));

        l[0] = NULL;
        if (c && c->mode == NETWORK_MODE_NAT) {
                _cleanup_free_ char *guest = in_addr_to_string(c->guest_address.address);
                _cleanup_free_ char *gw = in_addr_to_string(c->host_address.address);
                _cleanup_free_ char *mask = in_addr_to_string(in_addr_netmask(c->guest_address.prefixlen));

                strv_consume(&l, xasprintf("ip=%s::%s:%s::eth0:off", guest, gw, mask));
        } else if (c && c->mode == NETWORK_MODE_USER) {
                strv_extend(&l, "ip=" NETWORK_USER_GUEST "::" NETWORK_USER_HOST ":" NETWORK_USER_NETMASK "::eth0:off");
                if (!c->nameservers)
                        strv_extend(&l, "nameserver=" NETWORK_USER_DNS);
        } else if (c)
                strv_extend(&l, "ip=dhcp");
        if (c)
                STRV_FOREACH(ns, c->nameservers)
                        strv_consume(&l, xasprintf("nameserver=%s", *ns));

        if (c)
                log_debug("Guest network on %s: %s", tap ?: "QEMU's user-mode network", l[0]);
        *ret = TAKE_PTR(l);
        return 0;
}

bool network_boot_arg_is_network(const char *arg) {
        return startswith(arg, "ip=") || startswith(arg, "nameserver=") ||
                startswith(arg, "rd.route=") || startswith(arg, "rd.neednet=");
}

int network_tap_name(const char *instance, char **ret) {
        _cleanup_free_ char *app = NULL;
        const char *at;

        if (isempty(instance))
                return -EINVAL;
        at = strchr(instance, '@');
        app = at ? xstrndup(instance, at - instance) : xstrdup(instance);
        if (!flake_app_name_is_valid(app) || (at && !flake_instance_name_is_valid(at)))
                return -EINVAL;
        *ret = tap_name_for_instance(instance);
        return 0;
}

/* ---- defaults and allocation ---- */

void network_defaults_done(NetworkDefaults *d) {
        free(d->uplink);
        d->uplink = NULL;
        d->nameservers = strv_free(d->nameservers);
}

char *network_defaults_path(void) {
        return path_join(flake_path(FLAKE_PATH_TEMPLATE_DIR), "network.yml");
}

int network_defaults_load(NetworkDefaults *ret) {
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        _cleanup_free_ char *path = network_defaults_path(), *err = NULL;
        NetworkDefaults d = {};
        const YamlNode *n;
        const char *s;
        int r;

        if (in_addr_prefix_from_string(NETWORK_DEFAULT_POOL, 0xff, &d.pool) < 0)
                abort();

        r = yaml_document_load(path, &doc, &err);
        if (r == -ENOENT) {
                *ret = d;
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "%s", err ?: path);

        n = doc->root ? yaml_mapping_get(doc->root, "network") : NULL;
        if (!yaml_node_is_null(n) && n->type != YAML_NODE_MAPPING)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s:%u: 'network' must be a mapping", path, n->line);

        for (size_t i = 0; n && n->type == YAML_NODE_MAPPING && i < n->n_items; i++) {
                const char *k = n->keys[i];
                const YamlNode *v = n->items[i];

                if (streq(k, "uplink")) {
                        if (yaml_node_get_string(v, &s) < 0 || !network_ifname_is_valid(s))
                                r = -EBADMSG;
                        else
                                d.uplink = xstrdup(s);
                } else if (streq(k, "pool")) {
                        if (yaml_node_get_string(v, &s) < 0 ||
                            in_addr_prefix_from_string(s, 0xff, &d.pool) < 0 || d.pool.prefixlen > 30)
                                r = -EBADMSG;
                } else if (streq(k, "nameserver")) {
                        if (yaml_node_get_string_list(v, &d.nameservers) < 0)
                                r = -EBADMSG;
                        STRV_FOREACH(ns, d.nameservers)
                                if (!nameserver_is_valid(*ns))
                                        r = -EBADMSG;
                } else
                        r = -EBADMSG;
                if (r < 0) {
                        network_defaults_done(&d);
                        return log_error_errno(r, "%s:%u: network.%s: invalid value (or unknown key)", path, v->line, k);
                }
        }

        *ret = d;
        return 0;
}

int network_defaults_save(const NetworkDefaults *d) {
        _cleanup_(yaml_document_freep) YamlDocument *doc = yaml_document_new();
        _cleanup_free_ char *path = network_defaults_path(), *pool = NULL, *text = NULL;
        YamlNode *n;
        int r;

        doc->root = yaml_node_new(YAML_NODE_MAPPING);
        n = yaml_mapping_ensure(doc->root, "network");
        if (d->uplink)
                yaml_mapping_set(n, "uplink", yaml_node_new_scalar(d->uplink, false));
        pool = in_addr_prefix_to_string(&d->pool);
        yaml_mapping_set(n, "pool", yaml_node_new_scalar(pool, false));
        if (strv_length(d->nameservers) > 0)
                yaml_mapping_set(n, "nameserver", yaml_node_new_string_list(d->nameservers));

        r = yaml_document_dump(doc, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to serialise %s", path);
        r = mkdir_parents(path, 0755);
        if (r >= 0)
                r = write_file_atomic(path, text, strlen(text), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %s", path, strerror(-r));
        return 0;
}

int network_collect_used(const char *dir, const char *skip_name, InAddrPrefix **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ InAddrPrefix *used = NULL;
        size_t n = 0;
        int r;

        r = flake_list_names(dir, &names);
        if (r < 0)
                return log_error_errno(r, "Failed to list %s: %s", dir, strerror(-r));

        STRV_FOREACH(name, names) {
                _cleanup_(flake_freep) Flake *f = NULL;
                _cleanup_(network_config_freep) NetworkConfig *c = NULL;
                FlakeDiagnostics diag = {};

                if (streq_ptr(*name, skip_name))
                        continue;
                r = flake_load(dir, *name, &f, &diag);
                flake_diagnostics_done(&diag);
                if (r >= 0)
                        r = network_config_from_flake(f, &c);
                if (r < 0) {
                        log_warning("Ignoring the addresses of flake '%s': it does not load.", *name);
                        continue;
                }
                if (!c || c->mode != NETWORK_MODE_NAT)
                        continue;
                used = xrealloc(used, (n + 1) * sizeof(*used));
                used[n++] = c->host_address;
        }

        *ret = TAKE_PTR(used);
        *ret_n = n;
        return 0;
}

int network_allocate(const InAddrPrefix *pool, const InAddrPrefix *used, size_t n_used,
                     InAddrPrefix *ret_host, InAddrPrefix *ret_guest) {
        uint32_t first = ntohl(in_addr_prefix_network(pool).s_addr);
        uint64_t size = UINT64_C(1) << (32 - pool->prefixlen);

        for (uint64_t off = 0; off + 4 <= size; off += 4) {
                InAddrPrefix block = { .address.s_addr = htonl(first + (uint32_t) off), .prefixlen = 30 };
                bool taken = false;

                for (size_t i = 0; i < n_used && !taken; i++)
                        taken = in_addr_prefix_overlaps(&block, &used[i]);
                if (taken)
                        continue;

                *ret_host = (InAddrPrefix) { .address.s_addr = htonl(first + (uint32_t) off + 1), .prefixlen = 30 };
                *ret_guest = (InAddrPrefix) { .address.s_addr = htonl(first + (uint32_t) off + 2), .prefixlen = 30 };
                return 0;
        }
        return -ENOSPC;
}
