/* SPDX-License-Identifier: MIT */
/* flake-tap: creates and removes the host side of a VM flake's network.
 *
 *   flake-tap [--owner USER] start INSTANCE
 *   flake-tap stop INSTANCE
 *   flake-tap status INSTANCE
 *
 * INSTANCE is "app" or "app@id" (flake-tap@INSTANCE.service's %I). See
 * flake-tap(8). */

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>

#include "config.h"
#include "fileio.h"
#include "flake.h"
#include "log.h"
#include "netlink-route.h"
#include "strv.h"
#include "tap.h"
#include "vm-instance.h"

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"
#define CAP_NET_ADMIN_BIT 12

static const char *arg_owner;

static int check_net_admin(void) {
        _cleanup_free_ char *status = NULL;
        const char *p;
        uint64_t caps;
        int r;

        r = read_full_file("/proc/self/status", &status, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to read /proc/self/status: %s", strerror(-r));
        p = strstr(status, "\nCapEff:");
        if (!p || sscanf(p + strlen("\nCapEff:"), "%" SCNx64, &caps) != 1)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Cannot read the effective capabilities from /proc/self/status");
        if (!(caps & (UINT64_C(1) << CAP_NET_ADMIN_BIT)))
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "flake-tap needs CAP_NET_ADMIN (run it as root or through flake-tap@.service).");
        return 0;
}

static int resolve_owner(const Flake *f, uid_t *ret) {
        const char *user = arg_owner ?: f->runas;
        struct passwd *pw;

        /* root (or nobody named): the VMM runs as the system VMM user
         * (vm_user_resolve()), so the TAP is its. Never no owner: a TAP
         * without owner or group is open to every local user. Without that
         * user the VM cannot start anyway: root keeps the TAP. */
        if (!arg_owner && (isempty(user) || streq(user, "root") || streq(user, "0"))) {
                _cleanup_(vm_user_done) VmUser u = {};

                if (vm_user_resolve(user, &u) < 0) {
                        log_warning("%s: the VMM user '%s' does not exist; the TAP is left to root.", f->path,
                                    vm_user_name(user));
                        *ret = 0;
                        return 0;
                }
                *ret = u.uid;
                return 0;
        }
        pw = getpwnam(user);
        if (!pw) {
                char *end;
                unsigned long uid = strtoul(user, &end, 10);

                if (arg_owner && *end == '\0' && end != user) {
                        *ret = (uid_t) uid;
                        return 0;
                }
                if (arg_owner)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--owner: no such user '%s'", user);
                log_warning("%s: runas user '%s' does not exist; the TAP is left to root.", f->path, user);
                *ret = 0;
                return 0;
        }
        *ret = pw->pw_uid;
        return 0;
}

static int load_wanted(const char *instance, const char *tap, TapState *ret) {
        _cleanup_(flake_config_done) FlakeConfig config = {};
        _cleanup_(flake_freep) Flake *f = NULL;
        _cleanup_(network_config_freep) NetworkConfig *c = NULL;
        _cleanup_free_ char *app = xstrndup(instance, strcspn(instance, "@"));
        uid_t owner = (uid_t) -1;
        int r;

        r = flake_config_load_system(&config);
        if (r < 0)
                return r;
        r = flake_load(config.flakes_dir, app, &f, NULL);
        if (r == -ENOENT)
                return log_error_errno(r, "No flake named '%s' is registered in %s.", app, config.flakes_dir);
        if (r == -EBADMSG)      /* every problem is logged already */
                return r;
        if (r < 0)
                return log_error_errno(r, "Cannot load the flake '%s': %s", app, strerror(-r));
        if (f->engine != FLAKE_ENGINE_FIRECRACKER)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: '%s' is not a VM flake; only VM flakes get a TAP.", f->path, app);
        r = network_config_from_flake(f, &c);
        if (r < 0)
                return r;
        if (!c)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "%s: the flake '%s' has no network settings "
                                       "(add them with 'flake-ctl firecracker network add %s').", f->path, app, app);
        if (!network_config_needs_tap(c))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: the network of '%s' is in user mode: QEMU's own "
                                       "network inside the VMM, no TAP to make.", f->path, app);
        r = resolve_owner(f, &owner);
        if (r < 0)
                return r;

        *ret = (TapState) {
                .instance = xstrdup(instance),
                .tap = xstrdup(tap),
                .config = *c,
                .owner = owner,
        };
        /* The strings now belong to ret. */
        *c = (NetworkConfig) {};
        return 0;
}

/* Refuses settings that cannot work, before anything is created. */
static int verify_environment(const TapState *s, bool started) {
        _cleanup_free_ char *kind = NULL, *what = NULL;
        const NetworkConfig *c = &s->config;
        int r;

        if (!started) {
                r = link_lookup(s->tap, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "Interface %s already exists and was not created by "
                                               "flake-tap for %s; refusing to take it over.", s->tap, s->instance);
        }

        if (c->mode == NETWORK_MODE_BRIDGE) {
                r = link_lookup(c->bridge, &kind);
                if (r < 0)
                        return r;
                if (r == 0)
                        return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "Bridge %s of %s does not exist.", c->bridge, s->instance);
                if (!streq(kind, "bridge"))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Interface %s of %s is not a bridge.", c->bridge, s->instance);
                return 0;
        }

        r = link_lookup(c->uplink, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "Uplink %s of %s does not exist.", c->uplink, s->instance);
        if (streq(c->uplink, s->tap))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "The uplink of %s cannot be its own TAP %s.", s->instance, s->tap);

        r = netlink_route_conflict(&c->host_address, s->tap, &what);
        if (r < 0)
                return r;
        if (r > 0) {
                _cleanup_free_ char *a = in_addr_prefix_to_string(&c->host_address);
                return log_error_errno(SYNTHETIC_ERRNO(EADDRINUSE), "Host address %s of %s conflicts with the existing route %s.",
                                       a, s->instance, what);
        }
        return 0;
}

static int read_ip_forward(bool *ret) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = read_full_file(IP_FORWARD, &v, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %s", IP_FORWARD, strerror(-r));
        *ret = v[0] == '1';
        return 0;
}

static int write_ip_forward(bool on) {
        _cleanup_close_ int fd = open(IP_FORWARD, O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, on ? "1\n" : "0\n", 2) != 2)
                return log_error_errno(errno, "Failed to %s IPv4 forwarding (%s): %m",
                                       on ? "enable" : "restore", IP_FORWARD);
        return 0;
}

static char *forward_marker(void) {
        _cleanup_free_ char *dir = tap_state_dir();
        return path_join(dir, "ip_forward.enabled");
}

/* Regenerates the nft table from the state files and, when no NAT instance
 * is left, turns forwarding off again if we were the ones who turned it on. */
static int sync_shared(bool want_forward) {
        _cleanup_free_ char *ruleset = NULL, *marker = forward_marker();
        TapState *states = NULL;
        size_t n = 0;
        bool any_nat = false, on = false;
        int r;

        r = tap_state_read_all(&states, &n);
        if (r < 0)
                return r;
        ruleset = nft_ruleset(states, n);
        for (size_t i = 0; i < n; i++) {
                any_nat = any_nat || states[i].config.mode == NETWORK_MODE_NAT;
                tap_state_done(&states[i]);
        }
        free(states);

        r = nft_apply(ruleset);
        if (r < 0)
                return r;

        r = read_ip_forward(&on);
        if (r < 0)
                return r;
        if (any_nat && want_forward && !on) {
                /* Record first: if the write half-succeeds, stop still restores. */
                r = write_file_atomic(marker, "1\n", 2, 0644);
                if (r < 0)
                        return log_error_errno(r, "Failed to write %s: %s", marker, strerror(-r));
                r = write_ip_forward(true);
                if (r < 0)
                        return r;
        } else if (!any_nat && path_exists(marker)) {
                if (on) {
                        r = write_ip_forward(false);
                        if (r < 0)
                                return r;
                }
                (void) unlink(marker);
        }
        return 0;
}

/* Removes everything s records. Runs every step even after a failure. */
static int teardown(const TapState *s) {
        _cleanup_free_ char *kind = NULL;
        int r, ret = 0;

        r = link_lookup(s->tap, &kind);
        if (r > 0 && !streq(kind, "tun"))
                log_warning("%s is no longer a TAP device; leaving it alone.", s->tap);
        else if (r > 0)
                r = link_delete(s->tap);
        if (r < 0 && ret == 0)
                ret = r;

        r = tap_state_remove(s->tap);
        if (r < 0 && ret == 0)
                ret = r;
        r = sync_shared(false);
        if (r < 0 && ret == 0)
                ret = r;
        return ret;
}

static int setup(const TapState *s) {
        int r;

        r = link_lookup(s->tap, NULL);
        if (r == 0)
                r = tap_create(s->tap, s->owner);
        if (r < 0)
                return r;
        if (s->config.mode == NETWORK_MODE_NAT) {
                r = link_add_address(s->tap, &s->config.host_address);
                if (r >= 0)
                        r = link_set_up(s->tap, NULL);
        } else
                r = link_set_up(s->tap, s->config.bridge);
        if (r < 0)
                return r;
        return sync_shared(true);
}

static int lock_state_dir(void) {
        _cleanup_free_ char *dir = tap_state_dir();
        int r;

        r = mkdir_p(dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %s", dir, strerror(-r));
        r = lock_directory(dir);
        if (r < 0)
                return log_error_errno(r, "Failed to lock %s: %s", dir, strerror(-r));
        return r;
}

static int verb_start(const char *instance, const char *tap) {
        _cleanup_(tap_state_done) TapState want = {}, old = {};
        _cleanup_close_ int lock = -EBADF;
        bool started = false;
        int r;

        r = load_wanted(instance, tap, &want);
        if (r < 0)
                return r;
        r = check_net_admin();
        if (r < 0)
                return r;
        r = nft_check();
        if (r < 0)
                return r;

        lock = lock_state_dir();
        if (lock < 0)
                return lock;

        r = tap_state_read(tap, &old);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0 && tap_state_equal(&old, &want))
                started = true;
        else if (r >= 0) {
                log_info("The network settings of %s changed; recreating %s.", instance, tap);
                r = teardown(&old);
                if (r < 0)
                        return r;
        }

        r = verify_environment(&want, started);
        if (r < 0)
                return r;

        /* Recorded before it exists, so that stop (or our own rollback)
         * finds it whatever step fails. */
        r = tap_state_write(&want);
        if (r < 0)
                return log_error_errno(r, "Failed to record the state of %s: %s", tap, strerror(-r));

        r = setup(&want);
        if (r < 0) {
                log_notice("Removing what was set up for %s.", instance);
                (void) teardown(&want);
                return r;
        }
        log_info("%s %s for %s.", started ? "Verified" : "Set up", tap, instance);
        return 0;
}

static int verb_stop(const char *instance, const char *tap) {
        _cleanup_(tap_state_done) TapState s = {};
        _cleanup_close_ int lock = -EBADF;
        int r;

        r = check_net_admin();
        if (r < 0)
                return r;
        lock = lock_state_dir();
        if (lock < 0)
                return lock;

        r = tap_state_read(tap, &s);
        if (r == -ENOENT) {
                log_info("%s is not set up; nothing to remove.", instance);
                return 0;
        }
        if (r < 0)
                return r;
        r = teardown(&s);
        if (r >= 0)
                log_info("Removed %s of %s.", tap, instance);
        return r;
}

static int verb_status(const char *instance, const char *tap) {
        _cleanup_(tap_state_done) TapState s = {};
        _cleanup_free_ char *host = NULL, *guest = NULL;
        int r, present;

        r = tap_state_read(tap, &s);
        if (r == -ENOENT) {
                printf("instance: %s\ntap: %s\nstate: stopped\n", instance, tap);
                return 3;
        }
        if (r < 0)
                return r;
        present = link_lookup(tap, NULL);
        host = in_addr_prefix_to_string(&s.config.host_address);
        guest = in_addr_prefix_to_string(&s.config.guest_address);
        printf("instance: %s\ntap: %s\nstate: %s\nmode: %s\n", instance, tap,
               present > 0 ? "started" : "degraded (device missing)", network_mode_to_string(s.config.mode));
        if (s.config.mode == NETWORK_MODE_NAT)
                printf("uplink: %s\nhost_address: %s\nguest_address: %s\nnft_table: ip %s\n",
                       s.config.uplink, host, guest, TAP_NFT_TABLE);
        else
                printf("bridge: %s\n", s.config.bridge);
        if (s.owner != (uid_t) -1)
                printf("owner: %u\n", (unsigned) s.owner);
        return present > 0 ? 0 : 1;
}

static void help(void) {
        printf("Usage: flake-tap [--owner USER] start INSTANCE\n"
               "       flake-tap stop INSTANCE\n"
               "       flake-tap status INSTANCE\n\n"
               "Creates (start) and removes (stop) the TAP device, addresses, forwarding\n"
               "and NAT rules of a VM flake instance (\"app\" or \"app@id\").\n\n"
               "  --owner USER   owner of the TAP (default: vm.runtime.runas, for root the VMM user " VM_SYSTEM_USER ")\n"
               "  -h --help      show this help\n\nSee flake-tap(8).\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "owner", required_argument, NULL, 'o' },
                { "help",  no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_free_ char *tap = NULL;
        const char *verb, *instance;
        int c, r;

        /* Under flake-tap@ the journal directly: entries with FLAKE_NAME= etc. */
        log_setup("flake-tap", log_stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR);

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'o':
                        arg_owner = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return 2;
                }
        if (argc - optind != 2) {
                log_error("Expected a verb (start, stop, status) and an instance; see --help.");
                return 2;
        }
        verb = argv[optind];
        instance = argv[optind + 1];
        if (network_tap_name(instance, &tap) < 0) {
                log_error("Invalid instance name '%s': expected APP or APP@ID.", instance);
                return 2;
        }
        _cleanup_free_ char *app = xstrndup(instance, strcspn(instance, "@"));
        log_set_context(app, "firecracker", instance);

        if (streq(verb, "start"))
                r = verb_start(instance, tap);
        else if (streq(verb, "stop"))
                r = verb_stop(instance, tap);
        else if (streq(verb, "status"))
                r = verb_status(instance, tap);
        else {
                log_error("Unknown verb '%s'; expected start, stop or status.", verb);
                return 2;
        }
        return r < 0 ? 1 : r;
}
