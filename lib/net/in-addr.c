/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>

#include "in-addr.h"
#include "macro.h"

int in_addr_prefix_from_string(const char *s, unsigned char default_prefixlen, InAddrPrefix *ret) {
        _cleanup_free_ char *addr = NULL;
        const char *slash;
        unsigned long len;
        struct in_addr a;

        if (isempty(s))
                return -EINVAL;
        slash = strchr(s, '/');
        addr = slash ? xstrndup(s, slash - s) : xstrdup(s);
        /* inet_pton() accepts only the dotted quad, not "10.1" or hex forms. */
        if (inet_pton(AF_INET, addr, &a) != 1)
                return -EINVAL;
        if (slash) {
                char *end;

                if (slash[1] < '0' || slash[1] > '9')
                        return -EINVAL;
                errno = 0;
                len = strtoul(slash + 1, &end, 10);
                if (errno != 0 || *end != '\0' || len > 32)
                        return -EINVAL;
        } else if (default_prefixlen > 32)
                return -EINVAL;
        else
                len = default_prefixlen;

        ret->address = a;
        ret->prefixlen = (unsigned char) len;
        return 0;
}

char *in_addr_to_string(struct in_addr a) {
        char buf[INET_ADDRSTRLEN];

        return xstrdup(inet_ntop(AF_INET, &a, buf, sizeof(buf)));
}

char *in_addr_prefix_to_string(const InAddrPrefix *p) {
        _cleanup_free_ char *a = in_addr_to_string(p->address);

        return xasprintf("%s/%u", a, p->prefixlen);
}

struct in_addr in_addr_netmask(unsigned char prefixlen) {
        return (struct in_addr) {
                .s_addr = htonl(prefixlen == 0 ? 0 : UINT32_MAX << (32 - prefixlen)),
        };
}

struct in_addr in_addr_prefix_network(const InAddrPrefix *p) {
        return (struct in_addr) { .s_addr = p->address.s_addr & in_addr_netmask(p->prefixlen).s_addr };
}

bool in_addr_prefix_contains(const InAddrPrefix *p, struct in_addr a) {
        uint32_t mask = in_addr_netmask(p->prefixlen).s_addr;

        return (a.s_addr & mask) == (p->address.s_addr & mask);
}

bool in_addr_prefix_overlaps(const InAddrPrefix *a, const InAddrPrefix *b) {
        /* Two prefixes overlap iff they agree on the shorter one's bits. */
        unsigned char len = a->prefixlen < b->prefixlen ? a->prefixlen : b->prefixlen;
        uint32_t mask = in_addr_netmask(len).s_addr;

        return (a->address.s_addr & mask) == (b->address.s_addr & mask);
}
