/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <net/if.h>

#include "macro.h"
#include "names.h"
#include "tap-name.h"
#include "utf8.h"

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
        /* The pilot takes '@' as the start of an instance name. */
        assert_false(flake_app_name_is_valid("a@b"));
        assert_false(flake_app_name_is_valid("a\xff"));
        assert_false(flake_app_name_is_valid("a\xc2\x85"));
        assert_true(flake_app_name_is_valid("caf\xc3\xa9"));
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

static void test_utf8(void **state) {
        uint32_t c;

        assert_int_equal(utf8_decode("\xe2\x82\xac", 3, &c), 3);
        assert_int_equal(c, 0x20ac);
        assert_int_equal(utf8_decode("\xf0\x9f\x98\x80", 4, &c), 4);
        assert_int_equal(c, 0x1f600);
        assert_int_equal(utf8_decode("\xe2\x82\xac", 2, &c), -EILSEQ);      /* truncated */
        assert_int_equal(utf8_decode("\xc0\xaf", 2, &c), -EILSEQ);           /* overlong '/' */
        assert_int_equal(utf8_decode("\xe0\x80\xaf", 3, &c), -EILSEQ);      /* overlong */
        assert_int_equal(utf8_decode("\xed\xa0\x80", 3, &c), -EILSEQ);      /* surrogate */
        assert_int_equal(utf8_decode("\xf4\x90\x80\x80", 4, &c), -EILSEQ); /* above U+10FFFF */
        assert_int_equal(utf8_decode("\x80", 1, &c), -EILSEQ);
        assert_int_equal(utf8_decode("\xff", 1, &c), -EILSEQ);

        assert_int_equal(text_check(""), 0);
        assert_int_equal(text_check("gr\xc3\xbc\xc3\x9f" "e"), 0);
        assert_int_equal(text_check("img\xff"), -EILSEQ);
        assert_int_equal(text_check("a\nb"), -EBADMSG);
        assert_int_equal(text_check("a\x7f"), -EBADMSG);
        assert_int_equal(text_check("a\xc2\x9b" "31m"), -EBADMSG);          /* C1 CSI */
        assert_true(utf8_is_valid("a\tb"));
        assert_false(utf8_is_valid("a\xc3"));
}

static void test_text_escape(void **state) {
        _cleanup_free_ char *a = text_escape("a\nb\tc\x1b[0m\xff\xc2\x85" "d\xc3\xa9\\");
        assert_string_equal(a, "a\\nb\\tc\\x1b[0m\\xff\\u0085d\xc3\xa9\\");
        assert_null(text_escape_if_needed("plain /usr/bin/x \xc3\xa9"));
        _cleanup_free_ char *b = text_escape_if_needed("x\r");
        assert_string_equal(b, "x\\r");
        _cleanup_free_ char *c = text_escape("\xe2\x82");
        assert_string_equal(c, "\\xe2\\x82");
        assert_null(text_escape(NULL));
}

static void test_image_refs(void **state) {
        const char *good[] = {
                "c", "localhost/tools", "localhost/flake-test:latest", "127.0.0.1:5000/pulled:1",
                "registry.opensuse.org/opensuse/tumbleweed", "docker.io/library/alpine:3.19",
                "quay.io/a/b/c:v1.2_3-rc", "my-reg:5000/ns/img", "a__b", "a---b", "a.b_c",
                "Registry.Example/img", "[::1]:5000/img", "3f57d9401f8d",
                "alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "alpine:3@sha256:0123456789abcdef0123456789abcdef",
        };
        const char *bad[] = {
                "", "-", "--privileged", "img\n", "img\xff", "Img", "a b", "a//b", "/a", "a/",
                "a:", ":tag", "a:-x", "a:.x", "a___b", "a_", "-a", "a..b", "a@", "a@sha256:12",
                "a@sha256:zz23456789abcdef0123456789abcdef", "localhost:/a", "-reg.io/a",
                "reg-.io/a", "docker://alpine", "a:b:c",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!container_image_ref_is_valid(good[i]))
                        fail_msg("refused: %s", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (container_image_ref_is_valid(bad[i]))
                        fail_msg("accepted: %s", bad[i]);
}

static void test_user_names(void **state) {
        assert_true(user_name_is_valid("root"));
        assert_true(user_name_is_valid("john.doe"));
        assert_true(user_name_is_valid("_svc-x"));
        assert_true(user_name_is_valid("1000"));
        assert_true(user_name_is_valid("host$"));
        assert_false(user_name_is_valid(""));
        assert_false(user_name_is_valid("-u"));
        assert_false(user_name_is_valid(".x"));
        assert_false(user_name_is_valid("a b"));
        assert_false(user_name_is_valid("a\nb"));
        assert_false(user_name_is_valid("a:b"));
        assert_false(user_name_is_valid("$"));
        assert_false(user_name_is_valid("a$b"));
        assert_false(user_name_is_valid("abcdefghijabcdefghijabcdefghijabc"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_app_names),
                cmocka_unit_test(test_instance_names),
                cmocka_unit_test(test_escape_roundtrip),
                cmocka_unit_test(test_unescape_invalid),
                cmocka_unit_test(test_unit_name_build),
                cmocka_unit_test(test_tap_names),
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_text_escape),
                cmocka_unit_test(test_image_refs),
                cmocka_unit_test(test_user_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
