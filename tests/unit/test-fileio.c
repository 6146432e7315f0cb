/* SPDX-License-Identifier: MIT */
/* lib/basic/fileio.c: the bounded reads of files other users may have put
 * in place. read_regular_file() follows links (registrations may be links);
 * read_untrusted_file() does not (a VMM user's runtime dir). Neither blocks
 * on a FIFO nor reads a device forever. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "fileio.h"

static char dir[] = "/tmp/test-fileio.XXXXXX";

static char *at(const char *name) {
        return path_join(dir, name);
}

static void test_reads(void **state) {
        _cleanup_free_ char *file = at("file"), *link = at("link"), *fifo = at("fifo"), *zero = at("zero");
        _cleanup_free_ char *big = at("big");
        char *s = NULL;

        assert_int_equal(write_file_atomic(file, "1234\n", 5, 0600), 0);
        assert_int_equal(symlink(file, link), 0);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(symlink("/dev/zero", zero), 0);
        assert_int_equal(write_file_atomic(big, "0123456789", 10, 0600), 0);

        assert_int_equal(read_untrusted_file(file, 32, &s), 0);
        assert_string_equal(s, "1234\n");
        free(s);
        s = NULL;
        assert_int_equal(read_regular_file(link, 32, &s, NULL), 0);
        assert_string_equal(s, "1234\n");
        free(s);
        s = NULL;

        /* A link is not followed: not to a file, not to a device. */
        assert_int_equal(read_untrusted_file(link, 32, &s), -ELOOP);
        assert_int_equal(read_untrusted_file(zero, 32, &s), -ELOOP);
        /* A FIFO without a writer: refused at once, no wait. */
        assert_int_equal(read_untrusted_file(fifo, 32, &s), -EBADFD);
        assert_int_equal(read_regular_file(fifo, 32, &s, NULL), -EBADFD);
        /* A device through a followed link: refused, not read forever. */
        assert_int_equal(read_regular_file(zero, 32, &s, NULL), -EBADFD);
        /* Over the limit. */
        assert_int_equal(read_untrusted_file(big, 9, &s), -EFBIG);
        assert_null(s);
}

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reads),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
