/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <net/if.h>

#include "macro.h"
#include "names.h"

static void test_app_names(void **state) {
        assert_true(flake_app_name_is_valid("aws"));
        assert_true(flake_app_name_is_valid("python3.11"));
        assert_true(flake_app_name_is_valid("my-app_2"));
        assert_false(flake_app_name_is_valid(""));
        assert_false(flake_app_name_is_valid("."));
        assert_false(flake_app_name_is_valid(".."));
        assert_false(flake_app_name_is_valid(".hidden"));
        assert_false(flake_app_name_is_valid("a/b"));
        assert_false(flake_app_name_is_valid("a b"));
        assert_false(flake_app_name_is_valid("a\tb"));
        assert_false(flake_app_name_is_valid("a\nb"));
}

static void test_instance_names(void **state) {
        char longname[80];

        assert_true(flake_instance_name_is_valid("@x"));
        assert_true(flake_instance_name_is_valid("@my_inst-1=2@3"));
        assert_false(flake_instance_name_is_valid("@"));
        assert_false(flake_instance_name_is_valid("x"));
        assert_false(flake_instance_name_is_valid("@a/b"));
        assert_false(flake_instance_name_is_valid("@a.b"));
        assert_false(flake_instance_name_is_valid("@a b"));
        assert_false(flake_instance_name_is_valid("@\xc3\xa4"));

        memset(longname, 'a', sizeof(longname));
        longname[0] = '@';
        longname[64] = 0;
        assert_true(flake_instance_name_is_valid(longname));
        longname[64] = 'a';
        longname[65] = 0;
        assert_false(flake_instance_name_is_valid(longname));
}

static void test_escape_roundtrip(void **state) {
        const char *cases[][2] = {
                { "mybash", "mybash" },
                { "my-app", "my\\x2dapp" },
                { "app@id", "app\\x40id" },
                { "a/b", "a-b" },
                { ".dot", "\\x2edot" },
                { "x.y:z_1", "x.y:z_1" },
                { "sp ace", "sp\\x20ace" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = unit_name_escape(cases[i][0]), *u = NULL;
                assert_string_equal(e, cases[i][1]);
                assert_int_equal(unit_name_unescape(e, &u), 0);
                assert_string_equal(u, cases[i][0]);
        }
}

static void test_unescape_invalid(void **state) {
        char *u = NULL;
        assert_int_equal(unit_name_unescape("a\\x4", &u), -EINVAL);
        assert_int_equal(unit_name_unescape("a\\y41", &u), -EINVAL);
        assert_int_equal(unit_name_unescape("a\\xzz", &u), -EINVAL);
        assert_null(u);
}

static void test_unit_name_build(void **state) {
        _cleanup_free_ char *a = unit_name_build("flake-vm", "mybash", ".service");
        _cleanup_free_ char *b = unit_name_build("flake-vm", "mybash@one", ".service");
        assert_string_equal(a, "flake-vm@mybash.service");
        assert_string_equal(b, "flake-vm@mybash\\x40one.service");
}

static void test_tap_names(void **state) {
        _cleanup_free_ char *s = tap_name_for_instance("mybash");
        _cleanup_free_ char *l1 = tap_name_for_instance("averyveryverylongappname@instance");
        _cleanup_free_ char *l2 = tap_name_for_instance("averyveryverylongappname@instance");
        _cleanup_free_ char *l3 = tap_name_for_instance("averyveryverylongappname@instancf");
        _cleanup_free_ char *odd = tap_name_for_instance("a:b");

        assert_string_equal(s, "tap-mybash");
        assert_true(strlen(l1) < IFNAMSIZ);
        assert_string_equal(l1, l2);                /* deterministic */
        assert_string_not_equal(l1, l3);            /* distinct */
        assert_true(strncmp(l1, "tap-aver-", 9) == 0);
        assert_true(strlen(odd) < IFNAMSIZ);
        assert_null(strchr(odd, ':'));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_app_names),
                cmocka_unit_test(test_instance_names),
                cmocka_unit_test(test_escape_roundtrip),
                cmocka_unit_test(test_unescape_invalid),
                cmocka_unit_test(test_unit_name_build),
                cmocka_unit_test(test_tap_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
