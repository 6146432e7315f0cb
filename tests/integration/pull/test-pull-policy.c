/* SPDX-License-Identifier: MIT */
/* Unit tests of the pure parts of flake-pull: KIS checksum records, file
 * classification, and the archive path policy they rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "archive-extract.h"
#include "checksum.h"
#include "kis-policy.h"
#include "macro.h"

/* checksum.c checks it in its loops (flake-pull defines it in main.c). */
volatile sig_atomic_t pull_interrupted;

#define HEX "ca9c00d606daf2e97654718486cf7d3a69e51b14b03adb54df107eadc9c84c84"

static void test_record(void **state) {
        ChecksumRecord r;

        assert_int_equal(checksum_record_parse(HEX " 2048 4096\n", &r), 0);
        assert_int_equal(r.length, 2048ULL * 4096);
        assert_int_equal(r.digest[0], 0xca);
        assert_int_equal(checksum_record_parse(HEX, &r), 0);
        assert_true(r.length == UINT64_MAX);
        assert_int_equal(checksum_record_parse("", &r), -EINVAL);
        assert_int_equal(checksum_record_parse("xyz 1 2", &r), -EINVAL);
        assert_int_equal(checksum_record_parse(HEX " 2048", &r), -EINVAL);
        assert_int_equal(checksum_record_parse(HEX " 1 0", &r), -EINVAL);
        assert_int_equal(checksum_record_parse(HEX " -1 4096", &r), -EINVAL);
        assert_int_equal(checksum_record_parse(HEX " 18446744073709551615 4096", &r), -EINVAL);
        assert_int_equal(checksum_record_parse(HEX " 1 2 3", &r), -EINVAL);
}

static void test_classify(void **state) {
        assert_int_equal(kis_classify("leap.x86_64-1.15.6.kernel"), KIS_KERNEL);
        assert_int_equal(kis_classify("a/leap.initrd"), KIS_INITRD);
        assert_int_equal(kis_classify("leap.sha256"), KIS_CHECKSUM);
        assert_int_equal(kis_classify("leap.append"), KIS_APPEND);
        assert_int_equal(kis_classify("leap.x86_64-1.15.6.ext2"), KIS_ROOTFS);
        assert_int_equal(kis_classify("kernel.d/raw"), KIS_ROOTFS);
        assert_string_equal(kis_part_to_string(KIS_CHECKSUM), "checksum");
}

static void test_paths(void **state) {
        char *p = NULL;

        assert_int_equal(archive_path_normalize("./a.kernel", &p), 0);
        assert_string_equal(p, "a.kernel");
        free(p);
        assert_int_equal(archive_path_normalize(".//x/./y/", &p), 0);
        assert_string_equal(p, "x/y");
        free(p);
        assert_int_equal(archive_path_normalize("./", &p), 0);
        assert_string_equal(p, "");
        free(p);
        assert_int_equal(archive_path_normalize("/etc/passwd", &p), -EPERM);
        assert_int_equal(archive_path_normalize("../x", &p), -EPERM);
        assert_int_equal(archive_path_normalize("a/../../x", &p), -EPERM);
        assert_int_equal(archive_path_normalize("a/..", &p), -EPERM);
        assert_int_equal(archive_path_normalize("", &p), -EINVAL);
        assert_int_equal(archive_path_normalize("..a/b..", &p), 0);
        free(p);
}

static void test_links(void **state) {
        assert_int_equal(archive_link_target_check("a.kernel", "vmlinux"), 0);
        assert_int_equal(archive_link_target_check("d/x", "../y"), 0);
        assert_int_equal(archive_link_target_check("d/x", "../../y"), -EPERM);
        assert_int_equal(archive_link_target_check("x", "../y"), -EPERM);
        assert_int_equal(archive_link_target_check("x", "a/../../y"), -EPERM);
        assert_int_equal(archive_link_target_check("x", "/etc/shadow"), -EPERM);
        assert_int_equal(archive_link_target_check("x", ""), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_record),
                cmocka_unit_test(test_classify),
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_links),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
