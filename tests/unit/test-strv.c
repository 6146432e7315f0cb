/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fileio.h"
#include "strv.h"

static void test_strv(void **state) {
        _cleanup_strv_free_ char **l = NULL, **c = NULL;
        _cleanup_free_ char *j = NULL;

        assert_int_equal(strv_length(l), 0);
        strv_extend(&l, "b");
        strv_extend(&l, "a");
        strv_consume(&l, xstrdup("c"));
        assert_int_equal(strv_length(l), 3);
        strv_sort(l);
        j = strv_join(l, ",");
        assert_string_equal(j, "a,b,c");
        assert_true(strv_contains(l, "b"));
        assert_false(strv_contains(l, "d"));
        c = strv_copy(l);
        assert_true(strv_equal(l, c));
        strv_extend(&c, "d");
        assert_false(strv_equal(l, c));
}

static void test_paths(void **state) {
        _cleanup_free_ char *a = path_join("/a/", "/b"), *b = path_basename("/usr/bin/x/");
        _cleanup_free_ char *c = path_basename("x"), *d = path_basename("/");
        assert_string_equal(a, "/a/b");
        assert_string_equal(b, "x");
        assert_string_equal(c, "x");
        assert_string_equal(d, "/");

        assert_true(path_is_normalized("/"));
        assert_true(path_is_normalized("/usr/bin/x"));
        assert_true(path_is_normalized("/usr/bin/.x"));
        assert_true(path_is_normalized("/a/...b"));
        assert_false(path_is_normalized(NULL));
        assert_false(path_is_normalized(""));
        assert_false(path_is_normalized("usr/bin/x"));
        assert_false(path_is_normalized("/../x"));
        assert_false(path_is_normalized("/usr/bin/.."));
        assert_false(path_is_normalized("/usr/./bin"));
        assert_false(path_is_normalized("/usr/bin/x/"));
        assert_false(path_is_normalized("//usr"));
        assert_false(path_is_normalized("/usr//bin"));
        assert_false(path_is_normalized("/."));
}

static void test_atomic_write_and_rm_rf(void **state) {
        char dir[] = "/tmp/test-fileio-XXXXXX";
        _cleanup_free_ char *sub = NULL, *file = NULL, *content = NULL;
        _cleanup_strv_free_ char **names = NULL;

        assert_non_null(mkdtemp(dir));
        sub = path_join(dir, "a/b/c");
        assert_int_equal(mkdir_p(sub, 0755), 0);
        assert_true(is_dir(sub));
        file = path_join(sub, "f.yaml");
        assert_int_equal(write_file_atomic(file, "hello", 5, 0600), 0);
        assert_int_equal(read_full_file(file, &content, NULL), 0);
        assert_string_equal(content, "hello");
        assert_int_equal(dir_list(sub, ".yaml", &names), 0);
        assert_int_equal(strv_length(names), 1);   /* no temp file left */
        assert_int_equal(rm_rf(dir), 0);
        assert_false(path_exists(dir));
        assert_int_equal(rm_rf(dir), 0);           /* missing is fine */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strv),
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_atomic_write_and_rm_rf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
