/* SPDX-License-Identifier: MIT */
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include "log.h"
#include "netlink-route.h"
#include "strv.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free);

int nle_to_errno(int nle) {
        switch (abs(nle)) {
        case NLE_PERM:
                return -EPERM;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_OBJ_NOTFOUND:
        case NLE_NODEV:
                return -ENODEV;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_BUSY:
                return -EBUSY;
        default:
                return -EIO;
        }
}

int netlink_host_routes(const char *ignore_ifname, InAddrPrefix **ret, char ***ret_ifnames, size_t *ret_n) {
        _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
        _cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
        _cleanup_free_ InAddrPrefix *list = NULL;
        _cleanup_strv_free_ char **ifnames = xmalloc(sizeof(char *));
        size_t n = 0;
        int r;

        ifnames[0] = NULL;
        sk = nl_socket_alloc();
        if (!sk)
                abort();
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return log_error_errno(nle_to_errno(r), "Failed to connect to rtnetlink: %s", nl_geterror(r));
        r = rtnl_route_alloc_cache(sk, AF_INET, 0, &cache);
        if (r < 0)
                return log_error_errno(nle_to_errno(r), "Failed to read the IPv4 routes: %s", nl_geterror(r));

        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_route *route = (struct rtnl_route *) o;
                struct nl_addr *dst = rtnl_route_get_dst(route);
                uint32_t table = rtnl_route_get_table(route);
                char ifname[IF_NAMESIZE] = "";

                if (!dst || nl_addr_get_prefixlen(dst) == 0 || nl_addr_get_len(dst) != 4)
                        continue;
                if (table != RT_TABLE_MAIN && table != RT_TABLE_LOCAL)
                        continue;
                if (rtnl_route_get_nnexthops(route) > 0) {
                        int ifindex = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, 0));

                        if (ifindex > 0 && !if_indextoname(ifindex, ifname))
                                ifname[0] = '\0';
                }
                if (ignore_ifname && streq(ifname, ignore_ifname))
                        continue;

                list = xrealloc(list, (n + 1) * sizeof(*list));
                memcpy(&list[n].address, nl_addr_get_binary_addr(dst), 4);
                list[n].prefixlen = nl_addr_get_prefixlen(dst);
                strv_extend(&ifnames, ifname);
                n++;
        }

        *ret = TAKE_PTR(list);
        if (ret_ifnames)
                *ret_ifnames = TAKE_PTR(ifnames);
        *ret_n = n;
        return 0;
}

int netlink_route_conflict(const InAddrPrefix *p, const char *ignore_ifname, char **ret_what) {
        _cleanup_free_ InAddrPrefix *routes = NULL;
        _cleanup_strv_free_ char **ifnames = NULL;
        size_t n;
        int r;

        r = netlink_host_routes(ignore_ifname, &routes, &ifnames, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (!in_addr_prefix_overlaps(p, &routes[i]))
                        continue;
                if (ret_what) {
                        _cleanup_free_ char *s = in_addr_prefix_to_string(&routes[i]);
                        *ret_what = isempty(ifnames[i]) ? TAKE_PTR(s) : xasprintf("%s dev %s", s, ifnames[i]);
                }
                return 1;
        }
        return 0;
}
