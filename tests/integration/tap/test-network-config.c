/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/net/network-config.c and lib/net/in-addr.c: parsing with
 * file:line errors, the guest boot arguments, YAML round trip, /30
 * allocation, TAP names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>

#include "network-config.h"
#include "strv.h"

static NetworkConfig *parse(const char *yaml, int *ret_r) {
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        NetworkConfig *c = NULL;

        assert_int_equal(yaml_document_load_string("t.yaml", yaml, strlen(yaml), &doc, NULL), 0);
        *ret_r = network_config_parse(yaml_lookup(doc->root, "vm.runtime.network"), &c);
        return c;
}

static void test_parse_nat(void **state) {
        _cleanup_(network_config_freep) NetworkConfig *c = NULL;
        _cleanup_free_ char *h = NULL;
        int r;

        c = parse("vm:\n  runtime:\n    network:\n      uplink: eth0\n"
                  "      host_address: 172.16.0.1/30\n      guest_address: 172.16.0.2/30\n"
                  "      nameserver: 192.0.2.53\n", &r);
        assert_int_equal(r, 0);
        assert_non_null(c);
        assert_int_equal(c->mode, NETWORK_MODE_NAT);
        assert_string_equal(c->uplink, "eth0");
        h = in_addr_prefix_to_string(&c->host_address);
        assert_string_equal(h, "172.16.0.1/30");
        assert_int_equal(strv_length(c->nameservers), 1);
}

/* "mode" first: no other key has set the result of the loop yet (run under
 * valgrind, meson test --setup valgrind, an uninitialised read fails). */
static void test_parse_mode_first(void **state) {
        _cleanup_(network_config_freep) NetworkConfig *c = NULL;
        int r;

        c = parse("vm:\n  runtime:\n    network:\n      mode: bridge\n      bridge: br0\n", &r);
        assert_int_equal(r, 0);
        assert_non_null(c);
        assert_int_equal(c->mode, NETWORK_MODE_BRIDGE);
        assert_string_equal(c->bridge, "br0");
}

/* QEMU's user-mode network: no TAP, fixed addresses, QEMU's DNS forwarder
 * unless nameservers are given; the TAP keys of the other modes refused. */
static void test_user_mode(void **state) {
        _cleanup_(network_config_freep) NetworkConfig *c = NULL, *back = NULL;
        _cleanup_strv_free_ char **args = NULL, **own_dns = NULL;
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL;
        char *ns[] = { (char *) "192.0.2.53", NULL };
        NetworkConfig *bad;
        int r;

        c = parse("vm:\n  runtime:\n    network:\n      mode: user\n", &r);
        assert_int_equal(r, 0);
        assert_non_null(c);
        assert_int_equal(c->mode, NETWORK_MODE_USER);
        assert_false(network_config_needs_tap(c));
        assert_int_equal(network_config_boot_args(c, NULL, &args), 0);
        assert_int_equal(strv_length(args), 2);
        assert_string_equal(args[0], "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off");
        assert_string_equal(args[1], "nameserver=10.0.2.3");
        assert_string_equal(NETWORK_USER_NETDEV, "net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3");

        c->nameservers = strv_copy(ns);
        assert_int_equal(network_config_boot_args(c, NULL, &own_dns), 0);
        assert_int_equal(strv_length(own_dns), 2);
        assert_string_equal(own_dns[1], "nameserver=192.0.2.53");

        /* Stored as "mode: user" (and its nameservers) alone. */
        assert_int_equal(yaml_document_load_string("t.yaml", "vm:\n  name: x\n", strlen("vm:\n  name: x\n"), &doc, NULL), 0);
        assert_int_equal(network_config_store(doc, c), 0);
        assert_int_equal(yaml_document_dump(doc, &text), 0);
        assert_null(strstr(text, "uplink"));
        assert_null(strstr(text, "bridge"));
        assert_int_equal(yaml_document_load_string("t2.yaml", text, strlen(text), &again, NULL), 0);
        assert_int_equal(network_config_parse(yaml_lookup(again->root, "vm.runtime.network"), &back), 0);
        assert_int_equal(back->mode, NETWORK_MODE_USER);

        static const char *refused[] = {
                "vm:\n  runtime:\n    network:\n      mode: user\n      uplink: eth0\n",
                "vm:\n  runtime:\n    network:\n      mode: user\n      bridge: br0\n",
                "vm:\n  runtime:\n    network:\n      mode: user\n      guest_address: 10.0.2.16/24\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                bad = parse(refused[i], &r);
                assert_int_equal(r, -EBADMSG);
                assert_null(bad);
        }
        assert_true(network_config_needs_tap(&(NetworkConfig) { .mode = NETWORK_MODE_NAT }));
        assert_true(network_config_needs_tap(&(NetworkConfig) { .mode = NETWORK_MODE_BRIDGE }));
        assert_false(network_config_needs_tap(NULL));
}

static void test_parse_none_and_errors(void **state) {
        NetworkConfig *c = (NetworkConfig *) 1;
        int r;

        c = parse("vm:\n  runtime:\n    network: ~\n", &r);
        assert_int_equal(r, 0);
        assert_null(c);

        static const char *bad[] = {
                "vm:\n  runtime:\n    network:\n      uplink: eth0\n",                        /* no addresses */
                "vm:\n  runtime:\n    network:\n      mode: tunnel\n",
                "vm:\n  runtime:\n    network:\n      uplink: eth0\n      host_address: 172.16.0.1/30\n"
                "      guest_address: 172.16.0.6/30\n",                                        /* two networks */
                "vm:\n  runtime:\n    network:\n      uplink: eth0\n      host_address: 172.16.0.0/30\n"
                "      guest_address: 172.16.0.2/30\n",                                        /* network address */
                "vm:\n  runtime:\n    network:\n      uplink: 'a\"b'\n      host_address: 172.16.0.1/30\n"
                "      guest_address: 172.16.0.2/30\n",                                        /* unsafe name */
                "vm:\n  runtime:\n    network:\n      mode: bridge\n",                        /* no bridge */
                "vm:\n  runtime:\n    network:\n      bridge: br0\n      colour: red\n",    /* unknown key */
                "vm:\n  runtime:\n    network: [1]\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                c = parse(bad[i], &r);
                assert_int_equal(r, -EBADMSG);
                assert_null(c);
        }
}

static void test_boot_args(void **state) {
        NetworkConfig c = { .mode = NETWORK_MODE_NAT, .uplink = (char *) "eth0" };
        char *ns[] = { (char *) "192.0.2.53", NULL };
        _cleanup_strv_free_ char **args = NULL, **dhcp = NULL, **none = NULL;

        assert_int_equal(in_addr_prefix_from_string("172.16.0.1/30", 0xff, &c.host_address), 0);
        assert_int_equal(in_addr_prefix_from_string("172.16.0.2/30", 0xff, &c.guest_address), 0);
        c.nameservers = ns;
        assert_int_equal(network_config_boot_args(&c, "tap-app", &args), 0);
        assert_int_equal(strv_length(args), 2);
        assert_string_equal(args[0], "ip=172.16.0.2::172.16.0.1:255.255.255.252::eth0:off");
        assert_string_equal(args[1], "nameserver=192.0.2.53");

        c = (NetworkConfig) { .mode = NETWORK_MODE_BRIDGE, .bridge = (char *) "br0" };
        assert_int_equal(network_config_boot_args(&c, "tap-app", &dhcp), 0);
        assert_int_equal(strv_length(dhcp), 1);
        assert_string_equal(dhcp[0], "ip=dhcp");

        assert_int_equal(network_config_boot_args(NULL, NULL, &none), 0);
        assert_int_equal(strv_length(none), 0);

        assert_true(network_boot_arg_is_network("ip=dhcp"));
        assert_true(network_boot_arg_is_network("rd.neednet=1"));
        assert_false(network_boot_arg_is_network("init=/usr/sbin/sci"));
}

static void test_store_round_trip(void **state) {
        static const char yaml[] = "vm:\n  name: x\n  runtime:\n    runas: root\n";
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL, *again = NULL;
        _cleanup_(network_config_freep) NetworkConfig *back = NULL;
        _cleanup_free_ char *text = NULL, *g = NULL;
        NetworkConfig c = { .mode = NETWORK_MODE_NAT, .uplink = (char *) "eth0", .mac = (char *) "AA:FC:00:00:00:02" };

        assert_int_equal(in_addr_prefix_from_string("10.5.0.9/30", 0xff, &c.host_address), 0);
        assert_int_equal(in_addr_prefix_from_string("10.5.0.10/30", 0xff, &c.guest_address), 0);
        assert_int_equal(yaml_document_load_string("t.yaml", yaml, strlen(yaml), &doc, NULL), 0);
        assert_int_equal(network_config_store(doc, &c), 0);
        assert_int_equal(yaml_document_dump(doc, &text), 0);
        assert_int_equal(yaml_document_load_string("t2.yaml", text, strlen(text), &again, NULL), 0);
        assert_int_equal(network_config_parse(yaml_lookup(again->root, "vm.runtime.network"), &back), 0);
        assert_non_null(back);
        g = in_addr_prefix_to_string(&back->guest_address);
        assert_string_equal(g, "10.5.0.10/30");
        assert_string_equal(back->mac, "AA:FC:00:00:00:02");
        assert_non_null(yaml_lookup(again->root, "vm.runtime.runas"));

        assert_int_equal(network_config_store(doc, NULL), 0);
        assert_true(yaml_node_is_null(yaml_lookup(doc->root, "vm.runtime.network")));
}

static void test_allocate(void **state) {
        InAddrPrefix pool, used[2], host, guest;
        _cleanup_free_ char *h = NULL, *g = NULL;

        assert_int_equal(in_addr_prefix_from_string("172.16.0.0/16", 0xff, &pool), 0);
        assert_int_equal(in_addr_prefix_from_string("172.16.0.0/29", 0xff, &used[0]), 0);
        assert_int_equal(in_addr_prefix_from_string("172.16.0.9/30", 0xff, &used[1]), 0);
        assert_int_equal(network_allocate(&pool, used, 2, &host, &guest), 0);
        h = in_addr_prefix_to_string(&host);
        g = in_addr_prefix_to_string(&guest);
        assert_string_equal(h, "172.16.0.13/30");
        assert_string_equal(g, "172.16.0.14/30");

        assert_int_equal(in_addr_prefix_from_string("172.16.0.0/30", 0xff, &pool), 0);
        assert_int_equal(network_allocate(&pool, used, 2, &host, &guest), -ENOSPC);
}

static void test_in_addr(void **state) {
        InAddrPrefix p;

        assert_int_equal(in_addr_prefix_from_string("10.0.0.1/8", 0xff, &p), 0);
        assert_int_equal(p.prefixlen, 8);
        assert_int_equal(in_addr_prefix_from_string("10.0.0.1", 0xff, &p), -EINVAL);
        assert_int_equal(in_addr_prefix_from_string("10.0.0.1", 32, &p), 0);
        assert_int_equal(in_addr_prefix_from_string("10.0.0.1/33", 0xff, &p), -EINVAL);
        assert_int_equal(in_addr_prefix_from_string("10.0.0.1/", 0xff, &p), -EINVAL);
        assert_int_equal(in_addr_prefix_from_string("10.1/8", 0xff, &p), -EINVAL);
        assert_int_equal(in_addr_prefix_from_string("10.0.0.1/+8", 0xff, &p), -EINVAL);
}

static void test_tap_names(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        char *bad = NULL;

        assert_int_equal(network_tap_name("app", &a), 0);
        assert_string_equal(a, "tap-app");
        assert_int_equal(network_tap_name("app@x", &b), 0);
        assert_string_equal(b, "tap-app@x");
        assert_int_equal(network_tap_name("averyveryverylongappname@instance", &c), 0);
        assert_int_equal(network_tap_name("averyveryverylongappname@instance", &d), 0);
        assert_string_equal(c, d);
        assert_true(strlen(c) <= 15);
        assert_true(network_ifname_is_valid(c));
        assert_int_equal(network_tap_name("a/b", &bad), -EINVAL);
        assert_int_equal(network_tap_name("app@", &bad), -EINVAL);
        assert_int_equal(network_tap_name("app@x y", &bad), -EINVAL);
        assert_int_equal(network_tap_name("", &bad), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_nat),
                cmocka_unit_test(test_parse_mode_first),
                cmocka_unit_test(test_parse_none_and_errors),
                cmocka_unit_test(test_user_mode),
                cmocka_unit_test(test_boot_args),
                cmocka_unit_test(test_store_round_trip),
                cmocka_unit_test(test_allocate),
                cmocka_unit_test(test_in_addr),
                cmocka_unit_test(test_tap_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
