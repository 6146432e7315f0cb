/* SPDX-License-Identifier: MIT */
#pragma once

/* IPv4 addresses with a prefix length ("172.16.0.1/30"), as the network
 * settings of VM flakes use them. */

#include <netinet/in.h>
#include <stdbool.h>

typedef struct InAddrPrefix {
        struct in_addr address;
        unsigned char prefixlen;        /* 0..32 */
} InAddrPrefix;

/* "A.B.C.D/N"; without "/N" default_prefixlen is used (-EINVAL if that is
 * 0xff, i.e. the length is mandatory). Returns -EINVAL on anything else. */
int in_addr_prefix_from_string(const char *s, unsigned char default_prefixlen, InAddrPrefix *ret);
/* "A.B.C.D/N", a new string. */
char *in_addr_prefix_to_string(const InAddrPrefix *p);
/* "A.B.C.D", a new string. */
char *in_addr_to_string(struct in_addr a);

/* The netmask (255.255.255.252 for /30) in network byte order. */
struct in_addr in_addr_netmask(unsigned char prefixlen);
/* The network address of p (host bits cleared). */
struct in_addr in_addr_prefix_network(const InAddrPrefix *p);
/* Do the two networks share any address? */
bool in_addr_prefix_overlaps(const InAddrPrefix *a, const InAddrPrefix *b);
/* Is a inside network p? */
bool in_addr_prefix_contains(const InAddrPrefix *p, struct in_addr a);
