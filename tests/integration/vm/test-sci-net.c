/* SPDX-License-Identifier: MIT */
/* sci's parsers of the guest network boot arguments (helpers/sci/sci-net.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "sci-net.h"
#include "sci-util.h"

/* Allocation failure on demand (linked with -Wl,--wrap=realloc): sci is
 * the guest's PID 1 and must not crash on out-of-memory. */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
static int realloc_fail_after = -1;

void *__wrap_realloc(void *p, size_t n) {
        if (realloc_fail_after == 0)
                return NULL;
        if (realloc_fail_after > 0)
                realloc_fail_after--;
        return __real_realloc(p, n);
}

static const char *addr(struct in_addr a) {
        static char buf[4][INET_ADDRSTRLEN];
        static int n;
        char *b = buf[n++ % 4];

        return inet_ntop(AF_INET, &a, b, INET_ADDRSTRLEN);
}

static void test_static_as_the_pilot_writes_it(void **state) {
        SciNetConfig c = {};

        (void) state;
        assert_int_equal(sci_net_parse_ip("172.16.0.2::172.16.0.1:255.255.255.252::eth0:off", &c), 0);
        assert_true(c.configured);
        assert_false(c.dhcp);
        assert_string_equal(addr(c.address), "172.16.0.2");
        assert_string_equal(addr(c.gateway), "172.16.0.1");
        assert_string_equal(addr(c.netmask), "255.255.255.252");
        assert_string_equal(c.device, "eth0");
        assert_string_equal(c.hostname, "");
        assert_int_equal(c.n_dns, 0);
}

static void test_full_kernel_form(void **state) {
        SciNetConfig c = {};

        (void) state;
        assert_int_equal(sci_net_parse_ip("10.0.0.5:10.0.0.9:10.0.0.1:24:guest-1::none:192.0.2.53:192.0.2.54:10.0.0.7", &c), 0);
        assert_string_equal(addr(c.address), "10.0.0.5");
        assert_string_equal(addr(c.netmask), "255.255.255.0");
        assert_string_equal(c.hostname, "guest-1");
        assert_string_equal(c.device, "");      /* first non-lo device */
        assert_int_equal(c.n_dns, 2);
        assert_string_equal(addr(c.dns[0]), "192.0.2.53");
        assert_string_equal(addr(c.dns[1]), "192.0.2.54");
}

static void test_defaults(void **state) {
        SciNetConfig c = {};

        (void) state;
        /* No gateway, no netmask: no default route, the classful mask. */
        assert_int_equal(sci_net_parse_ip("10.1.2.3:::::eth1:", &c), 0);
        assert_int_equal(c.gateway.s_addr, 0);
        assert_string_equal(addr(c.netmask), "255.0.0.0");
        assert_string_equal(c.device, "eth1");
        assert_int_equal(sci_net_parse_ip("172.20.1.1", &c), 0);
        assert_string_equal(addr(c.netmask), "255.255.0.0");
        assert_string_equal(c.device, "");
        assert_int_equal(sci_net_parse_ip("192.168.7.2::192.168.7.1", &c), 0);
        assert_string_equal(addr(c.netmask), "255.255.255.0");
        assert_string_equal(addr(c.gateway), "192.168.7.1");
}

static void test_dhcp_and_off(void **state) {
        SciNetConfig c = {};

        (void) state;
        assert_int_equal(sci_net_parse_ip("dhcp", &c), 0);
        assert_true(c.configured && c.dhcp);
        assert_string_equal(c.device, "");
        assert_int_equal(sci_net_parse_ip("eth0:dhcp", &c), 0);
        assert_true(c.dhcp);
        assert_string_equal(c.device, "eth0");
        assert_int_equal(sci_net_parse_ip(":::::eth0:dhcp", &c), 0);
        assert_true(c.dhcp);
        assert_int_equal(sci_net_parse_ip("off", &c), 0);
        assert_false(c.configured);
        assert_int_equal(sci_net_parse_ip("on", &c), 0);
        assert_true(c.dhcp);
        assert_int_equal(sci_net_parse_ip("none", &c), 0);
        assert_false(c.configured);
}

static void test_unsupported_methods(void **state) {
        SciNetConfig c = {};

        (void) state;
        assert_int_equal(sci_net_parse_ip("bootp", &c), -EOPNOTSUPP);
        assert_int_equal(sci_net_parse_ip("eth0:dhcp6", &c), -EOPNOTSUPP);
        assert_int_equal(sci_net_parse_ip("10.0.0.2::10.0.0.1:255.0.0.0::eth0:rarp", &c), -EOPNOTSUPP);
        assert_false(c.configured);
}

static void test_malformed(void **state) {
        static const char * const bad[] = {
                "", ":", "10.0.0.256::10.0.0.1:255.255.255.0::eth0:off",
                "::10.0.0.1:255.255.255.0::eth0:off",           /* static without an address */
                "0.0.0.0::::::off",
                "10.0.0.2::10.0.0.x:255.255.255.0::eth0:off",
                "10.0.0.2::10.0.0.1:255.0.255.0::eth0:off",     /* not contiguous */
                "10.0.0.2::10.0.0.1:33::eth0:off",
                "10.0.0.2::10.0.0.1:24::averyveryverylongname:off",
                "10.0.0.2::10.0.0.1:24::eth/0:off",
                "10.0.0.2::10.0.0.1:24:bad_host!::off",
                "10.0.0.2::10.0.0.1:24::eth0:sometimes",
                "10.0.0.2::10.0.0.1:24::eth0:off:not-an-ip",
                "10.0.0.2::10.0.0.1:24::eth0:off:1.1.1.1:1.1.1.2:1.1.1.3:extra",
                "eth0:off", "eth0:", "dchp",
        };
        SciNetConfig c = {};

        (void) state;
        assert_int_equal(sci_net_parse_ip("10.9.9.9::10.9.9.1:24::eth0:off", &c), 0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                print_message("ip=%s\n", bad[i]);
                assert_int_equal(sci_net_parse_ip(bad[i], &c), -EINVAL);
                /* A bad ip= leaves the earlier one alone. */
                assert_string_equal(addr(c.address), "10.9.9.9");
        }
        assert_int_equal(sci_net_parse_ip(NULL, &c), -EINVAL);
}

static void test_later_ip_replaces_but_keeps_nameservers_and_routes(void **state) {
        SciNetConfig c = {};

        (void) state;
        assert_int_equal(sci_net_add_nameserver(&c, "192.0.2.1"), 0);
        assert_int_equal(sci_net_add_route(&c, "10.5.0.0/16:172.16.0.1"), 0);
        assert_int_equal(sci_net_parse_ip("172.16.0.2::172.16.0.1:30:host:eth0:off:192.0.2.2", &c), 0);
        assert_int_equal(sci_net_parse_ip("172.16.0.6::172.16.0.5:30::eth0:off", &c), 0);
        assert_string_equal(addr(c.address), "172.16.0.6");
        assert_string_equal(c.hostname, "");
        assert_int_equal(c.n_dns, 2);
        assert_string_equal(addr(c.dns[0]), "192.0.2.1");
        assert_string_equal(addr(c.dns[1]), "192.0.2.2");
        assert_int_equal(c.n_routes, 1);
}

static void test_nameservers(void **state) {
        SciNetConfig c = {};

        (void) state;
        assert_int_equal(sci_net_add_nameserver(&c, "8.8.8.8"), 0);
        assert_int_equal(sci_net_add_nameserver(&c, "8.8.8.8"), 0);   /* once */
        assert_int_equal(c.n_dns, 1);
        assert_int_equal(sci_net_add_nameserver(&c, "dns.example"), -EINVAL);
        assert_int_equal(sci_net_add_nameserver(&c, ""), -EINVAL);
        assert_int_equal(sci_net_add_nameserver(&c, NULL), -EINVAL);
        assert_int_equal(sci_net_add_nameserver(&c, "1.1.1.1"), 0);
        assert_int_equal(sci_net_add_nameserver(&c, "1.1.1.2"), 0);
        assert_int_equal(sci_net_add_nameserver(&c, "1.1.1.3"), 0);
        assert_int_equal(sci_net_add_nameserver(&c, "1.1.1.4"), -E2BIG);
        assert_int_equal(c.n_dns, SCI_NET_DNS_MAX);
}

static void test_routes(void **state) {
        SciNetConfig c = {};

        (void) state;
        /* The example of the original's documentation: on-link. */
        assert_int_equal(sci_net_add_route(&c, "172.16.0.1/24::eth0"), 0);
        assert_string_equal(addr(c.routes[0].net), "172.16.0.0");
        assert_int_equal(c.routes[0].prefixlen, 24);
        assert_int_equal(c.routes[0].gateway.s_addr, 0);
        assert_string_equal(c.routes[0].device, "eth0");
        assert_int_equal(sci_net_add_route(&c, "10.0.0.0/8:172.16.0.1"), 0);
        assert_string_equal(addr(c.routes[1].gateway), "172.16.0.1");
        assert_string_equal(c.routes[1].device, "");
        assert_int_equal(sci_net_add_route(&c, "0.0.0.0/0:172.16.0.1:"), 0);
        assert_int_equal(c.routes[2].prefixlen, 0);

        assert_int_equal(sci_net_add_route(&c, "10.0.0.0/8"), -EINVAL);
        assert_int_equal(sci_net_add_route(&c, "10.0.0.0:172.16.0.1"), -EINVAL);
        assert_int_equal(sci_net_add_route(&c, "10.0.0.0/40:"), -EINVAL);
        assert_int_equal(sci_net_add_route(&c, "10.0.0.0/8:gw"), -EINVAL);
        assert_int_equal(sci_net_add_route(&c, "10.0.0.0/8::a/b"), -EINVAL);
        assert_int_equal(c.n_routes, 3);
        for (int i = 3; i < SCI_NET_ROUTES_MAX; i++)
                assert_int_equal(sci_net_add_route(&c, "10.0.0.0/8:"), 0);
        assert_int_equal(sci_net_add_route(&c, "10.0.0.0/8:"), -E2BIG);
}

/* Out of memory in the middle of the word list: NULL, with every word
 * freed once (a double free aborts glibc and ASan alike). */
static void test_shell_split_out_of_memory(void **state) {
        char **l;

        for (int k = 0; k < 3; k++) {
                realloc_fail_after = k;
                l = sci_shell_split("one 'two three' four");
                realloc_fail_after = -1;
                assert_null(l);
        }
        l = sci_shell_split("one 'two three' four");
        assert_non_null(l);
        assert_string_equal(l[1], "two three");
        assert_null(l[3]);
        sci_strv_free(l);
}

static void collect(const char *key, const char *value, void *userdata) {
        sci_net_cmdline_cb(key, value, userdata);
}

static void test_cmdline(void **state) {
        SciNetConfig c = {};

        (void) state;
        /* What flake-vm puts on the command line for a NAT flake. */
        sci_cmdline_foreach("init=/usr/sbin/sci console=ttyS0 ip=172.16.0.2::172.16.0.1:255.255.255.252::eth0:off "
                            "nameserver=192.0.2.53 nameserver=192.0.2.54 rd.route=10.7.0.0/16:172.16.0.1 "
                            "ip=garbage nameserver=nope run=vsock",
                            collect, &c);
        assert_true(c.configured);
        assert_string_equal(addr(c.address), "172.16.0.2");
        assert_int_equal(c.n_dns, 2);
        assert_int_equal(c.n_routes, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_static_as_the_pilot_writes_it),
                cmocka_unit_test(test_full_kernel_form),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_dhcp_and_off),
                cmocka_unit_test(test_unsupported_methods),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_later_ip_replaces_but_keeps_nameservers_and_routes),
                cmocka_unit_test(test_nameservers),
                cmocka_unit_test(test_routes),
                cmocka_unit_test(test_cmdline),
                cmocka_unit_test(test_shell_split_out_of_memory),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
