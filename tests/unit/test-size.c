/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "size.h"

static uint64_t parse_ok(const char *s) {
        uint64_t v = 0;
        assert_int_equal(parse_size(s, &v), 0);
        return v;
}

static void test_units(void **state) {
        assert_int_equal(parse_ok("0"), 0);
        assert_int_equal(parse_ok("512"), 512);
        assert_int_equal(parse_ok("512B"), 512);
        assert_int_equal(parse_ok("1KB"), 1000);
        assert_int_equal(parse_ok("1kB"), 1000);
        assert_int_equal(parse_ok("1KiB"), 1024);
        assert_int_equal(parse_ok("512MiB"), 512ULL << 20);
        assert_int_equal(parse_ok("20GiB"), 20ULL << 30);
        assert_int_equal(parse_ok("20GB"), 20000000000ULL);
        assert_int_equal(parse_ok("2TiB"), 2ULL << 40);
        assert_int_equal(parse_ok("1PB"), 1000000000000000ULL);
}

static void test_single_letter_is_binary(void **state) {
        /* The original rejected these although its man page used "20g". */
        assert_int_equal(parse_ok("20G"), 20ULL << 30);
        assert_int_equal(parse_ok("20g"), 20ULL << 30);
        assert_int_equal(parse_ok("4k"), 4096);
        assert_int_equal(parse_ok("1M"), 1ULL << 20);
}

static void test_decimals_and_spaces(void **state) {
        assert_int_equal(parse_ok("1.5GiB"), 3ULL << 29);
        assert_int_equal(parse_ok("0.5KiB"), 512);
        assert_int_equal(parse_ok(" 10 MiB "), 10ULL << 20);
}

static void test_invalid(void **state) {
        uint64_t v;
        const char *bad[] = { "", "GiB", "-1", "1.", ".5G", "1 2", "1XB", "1GiBs", "abc", "1e3", "0x10", NULL };

        for (size_t i = 0; bad[i]; i++)
                assert_int_equal(parse_size(bad[i], &v), -EINVAL);
        assert_int_equal(parse_size(NULL, &v), -EINVAL);
        assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
        assert_int_equal(parse_size("20000000PiB", &v), -ERANGE);
}

static void test_format(void **state) {
        char buf[32];
        assert_string_equal(format_size(buf, sizeof(buf), 100), "100B");
        assert_string_equal(format_size(buf, sizeof(buf), 20ULL << 30), "20.0GiB");
        assert_string_equal(format_size(buf, sizeof(buf), 1536), "1.5KiB");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_units),
                cmocka_unit_test(test_single_letter_is_binary),
                cmocka_unit_test(test_decimals_and_spaces),
                cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_format),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
