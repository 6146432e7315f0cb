/* SPDX-License-Identifier: MIT */
/* URLs in log lines lose their secrets (issue 12.11): lib/basic/url-redact.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "macro.h"
#include "url-redact.h"

static void check(const char *in, const char *out) {
        _cleanup_free_ char *r = url_redact(in);
        assert_string_equal(r, out);
}

static void test_userinfo(void **state) {
        check("https://user:secret@example.org/img.tar.xz", "https://***@example.org/img.tar.xz");
        check("https://token@example.org", "https://***@example.org");
        /* The last '@' of the authority ends the user info. */
        check("https://u:p@ss@example.org:8443/a@b", "https://***@example.org:8443/a@b");
        check("ftp://u:p@h", "ftp://***@h");
}

static void test_query_and_fragment(void **state) {
        check("https://example.org/rootfs?X-Amz-Signature=abc&X-Amz-Credential=k",
              "https://example.org/rootfs?***");
        check("https://example.org/a#sig=1", "https://example.org/a#***");
        check("https://example.org/a?t=1#frag", "https://example.org/a?***#***");
        check("https://u:p@example.org?t=1", "https://***@example.org?***");
        check("https://example.org/a?", "https://example.org/a?");
}

static void test_in_text(void **state) {
        check("Download of https://u:p@h/x?t=1 failed: HTTP 403 (see https://h/y)",
              "Download of https://***@h/x?*** failed: HTTP 403 (see https://h/y)");
        check("run: flake-pull vm --kis-image=https://u:p@h/k.tar.xz?sig=9 --name x",
              "run: flake-pull vm --kis-image=https://***@h/k.tar.xz?*** --name x");
        check("'https://u:p@h/a?b'", "'https://***@h/a?***'");
        check("two: http://a:b@c/?d http://e/f#g", "two: http://***@c/?*** http://e/f#***");
}

static void test_untouched(void **state) {
        check("", "");
        check("plain text, user@example.org, a?b#c", "plain text, user@example.org, a?b#c");
        check("registry.example.org/tools/aws-cli:latest", "registry.example.org/tools/aws-cli:latest");
        check(":// no scheme ://x@y?z", ":// no scheme ://x@y?z");
        check("https://example.org/path/only", "https://example.org/path/only");
        assert_null(url_redact(NULL));
}

static void test_tiny_urls_grow_safely(void **state) {
        /* Every part grows: the buffer must hold it (ASan checks). */
        check("a://x@?y#z a://x@?y#z a://x@?y#z", "a://***@?***#*** a://***@?***#*** a://***@?***#***");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_userinfo),
                cmocka_unit_test(test_query_and_fragment),
                cmocka_unit_test(test_in_text),
                cmocka_unit_test(test_untouched),
                cmocka_unit_test(test_tiny_urls_grow_safely),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
