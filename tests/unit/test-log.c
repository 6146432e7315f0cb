/* SPDX-License-Identifier: MIT */
/* lib/basic/log.c: what one call returns and what the journal receives
 * (sd_journal_sendv is wrapped: -Wl,--wrap=sd_journal_sendv). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/uio.h>

#include "log.h"
#include "strv.h"

int __wrap_sd_journal_sendv(const struct iovec *iov, int n);

static char **fields;

int __wrap_sd_journal_sendv(const struct iovec *iov, int n) {
        strv_free(fields);
        fields = NULL;
        for (int i = 0; i < n; i++)
                strv_consume(&fields, xstrndup(iov[i].iov_base, iov[i].iov_len));
        return 0;
}

static int setup(void **state) {
        log_set_targets(LOG_TARGET_JOURNAL);
        log_set_console_level(-1);      /* nothing on stderr */
        return 0;
}

static int teardown(void **state) {
        strv_free(fields);
        fields = NULL;
        return 0;
}

/* A synthetic error is returned as the plain errno value, its message
 * says what %m says for it, and the entry has no ERRNO= field. */
static void test_synthetic(void **state) {
        assert_int_equal(log_error_errno(SYNTHETIC_ERRNO(EINVAL), "bad %s: %m", "value"), -EINVAL);
        assert_true(strv_contains(fields, "MESSAGE=bad value: Invalid argument"));
        STRV_FOREACH(f, fields)
                assert_null(startswith(*f, "ERRNO="));
        /* The caller's location, once. */
        size_t n_file = 0;
        STRV_FOREACH(f, fields)
                if (startswith(*f, "CODE_FILE="))
                        n_file++;
        assert_int_equal(n_file, 1);
        /* Whichever sign the caller wrote. */
        assert_int_equal(log_error_errno(SYNTHETIC_ERRNO(ENOENT), "gone"), -ENOENT);
}

/* An error from a call keeps its ERRNO= field, either sign in. */
static void test_real(void **state) {
        assert_int_equal(log_error_errno(-ENOENT, "open: %m"), -ENOENT);
        assert_true(strv_contains(fields, "ERRNO=2"));
        assert_true(strv_contains(fields, "MESSAGE=open: No such file or directory"));
        assert_int_equal(log_warning_errno(EACCES, "w"), -EACCES);
        assert_true(strv_contains(fields, "ERRNO=13"));
}

/* Below the level: nothing sent, the same return. */
static void test_filtered(void **state) {
        strv_free(fields);
        fields = NULL;
        assert_int_equal(log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "quiet"), -EBADMSG);
        assert_null(fields);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_synthetic, setup, teardown),
                cmocka_unit_test_setup_teardown(test_real, setup, teardown),
                cmocka_unit_test_setup_teardown(test_filtered, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
