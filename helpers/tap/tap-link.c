/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <sys/ioctl.h>

#include "log.h"
#include "netlink-route.h"
#include "tap.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put);


static int rtnl_open(struct nl_sock **ret) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (!sk)
                abort();
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return log_error_errno(nle_to_errno(r), "Failed to connect to rtnetlink: %s", nl_geterror(r));
        *ret = TAKE_PTR(sk);
        return 0;
}

static int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **ret) {
        int r = rtnl_link_get_kernel(sk, 0, name, ret);

        return r < 0 ? nle_to_errno(r) : 0;
}

int link_lookup(const char *name, char **ret_kind) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r;

        r = rtnl_open(&sk);
        if (r < 0)
                return r;
        r = link_get(sk, name, &link);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Failed to look up interface %s: %s", name, strerror(-r));
        if (ret_kind)
                *ret_kind = xstrdup(strempty(rtnl_link_get_type(link)));
        return 1;
}

int tap_create(const char *name, uid_t owner) {
        _cleanup_close_ int fd = -EBADF;
        struct ifreq ifr = {
                /* IFF_TUN_EXCL: fail rather than adopt a device someone else made. */
                .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL,
        };

        fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open /dev/net/tun: %m");
        strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
                int r = negative_errno();

                if (r == -EPERM)
                        return log_error_errno(r, "Creating %s needs CAP_NET_ADMIN.", name);
                return log_error_errno(r, "Failed to create TAP device %s: %m", name);
        }
        if (owner != (uid_t) -1 && ioctl(fd, TUNSETOWNER, (unsigned long) owner) < 0)
                return log_error_errno(errno, "Failed to give %s to uid %u: %m", name, (unsigned) owner);
        /* The device outlives this process; the unit's stop removes it. */
        if (ioctl(fd, TUNSETPERSIST, 1UL) < 0)
                return log_error_errno(errno, "Failed to make %s persistent: %m", name);
        return 0;
}

int link_delete(const char *name) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r;

        r = rtnl_open(&sk);
        if (r < 0)
                return r;
        r = link_get(sk, name, &link);
        if (r == -ENODEV)
                return 0;
        if (r >= 0) {
                r = rtnl_link_delete(sk, link);
                r = r < 0 ? nle_to_errno(r) : 0;
        }
        if (r < 0 && r != -ENODEV)
                return log_error_errno(r, "Failed to delete %s: %s", name, strerror(-r));
        return 0;
}

int link_set_up(const char *name, const char *master) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL, *bridge = NULL, *change = NULL;
        int r;

        r = rtnl_open(&sk);
        if (r < 0)
                return r;
        r = link_get(sk, name, &link);
        if (r < 0)
                return log_error_errno(r, "Failed to look up %s: %s", name, strerror(-r));

        change = rtnl_link_alloc();
        if (!change)
                abort();
        if (master) {
                r = link_get(sk, master, &bridge);
                if (r < 0)
                        return log_error_errno(r, "Failed to look up bridge %s: %s", master, strerror(-r));
                rtnl_link_set_master(change, rtnl_link_get_ifindex(bridge));
        }
        rtnl_link_set_flags(change, IFF_UP);
        r = rtnl_link_change(sk, link, change, 0);
        if (r < 0)
                return log_error_errno(nle_to_errno(r), "Failed to bring up %s%s%s: %s", name,
                                       master ? " in bridge " : "", strempty(master), nl_geterror(r));
        return 0;
}

int link_add_address(const char *name, const InAddrPrefix *a) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *addr = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *local = NULL;
        int r;

        r = rtnl_open(&sk);
        if (r < 0)
                return r;
        r = link_get(sk, name, &link);
        if (r < 0)
                return log_error_errno(r, "Failed to look up %s: %s", name, strerror(-r));

        addr = rtnl_addr_alloc();
        local = nl_addr_build(AF_INET, &a->address, sizeof(a->address));
        if (!addr || !local)
                abort();
        nl_addr_set_prefixlen(local, a->prefixlen);
        rtnl_addr_set_ifindex(addr, rtnl_link_get_ifindex(link));
        rtnl_addr_set_family(addr, AF_INET);
        r = rtnl_addr_set_local(addr, local);
        if (r >= 0)
                /* NLM_F_REPLACE: a second start finds the address and keeps it. */
                r = rtnl_addr_add(sk, addr, NLM_F_REPLACE);
        if (r < 0) {
                _cleanup_free_ char *s = in_addr_prefix_to_string(a);
                return log_error_errno(nle_to_errno(r), "Failed to add %s to %s: %s", s, name, nl_geterror(r));
        }
        return 0;
}
