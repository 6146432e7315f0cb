/* SPDX-License-Identifier: MIT */
/* sci's nfs= parser and mount options (helpers/sci/sci-volume.c) and the
 * checks flake-ctl and the loader share with it (lib/agent/nfs-volume.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sci-volume.h"

static void test_one_volume_as_flake_ctl_writes_it(void **state) {
        SciVolumes v = {};
        char err[256] = "";

        (void) state;
        assert_int_equal(sci_volumes_parse("172.16.0.1:/srv/data:/data", &v, err, sizeof(err)), 0);
        assert_int_equal(v.n, 1);
        assert_string_equal(v.v[0].server, "172.16.0.1");
        assert_string_equal(v.v[0].host_path, "/srv/data");
        assert_string_equal(v.v[0].guest_path, "/data");
        sci_volumes_done(&v);
}

static void test_list_and_colon_in_host_path(void **state) {
        SciVolumes v = {};
        char err[256] = "";

        (void) state;
        /* The guest path is what follows the last ':' (as upstream). */
        assert_int_equal(sci_volumes_parse("10.0.0.1:/a:/x,10.0.0.1:/b:c:/y/z", &v, err, sizeof(err)), 0);
        assert_int_equal(v.n, 2);
        assert_string_equal(v.v[0].host_path, "/a");
        assert_string_equal(v.v[0].guest_path, "/x");
        assert_string_equal(v.v[1].host_path, "/b:c");
        assert_string_equal(v.v[1].guest_path, "/y/z");
        /* A later nfs= replaces the earlier, as the kernel's last word wins. */
        assert_int_equal(sci_volumes_parse("10.0.0.2:/c:/w", &v, err, sizeof(err)), 0);
        assert_int_equal(v.n, 1);
        assert_string_equal(v.v[0].server, "10.0.0.2");
        sci_volumes_done(&v);
}

static void assert_refused(const char *value, const char *problem) {
        SciVolumes v = {};
        char err[256] = "";

        assert_int_equal(sci_volumes_parse(value, &v, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, problem));
        assert_int_equal(v.n, 0);
        assert_null(v.buf);
}

static void test_refused(void **state) {
        (void) state;
        assert_refused("", "lists no volume");
        assert_refused("172.16.0.1:/srv", "is not SERVER:HOST_PATH:GUEST_PATH");
        assert_refused("nfs-server:/srv:/data", "server is not an IPv4 address");
        assert_refused("172.16.0.256:/srv:/data", "server is not an IPv4 address");
        assert_refused("172.16.0.1:srv:/data", "host path is not an absolute path");
        assert_refused("172.16.0.1:/srv:data", "guest path is not an absolute path");
        assert_refused("172.16.0.1:/srv:/", "guest path is the root directory");
        assert_refused("172.16.0.1:/srv:/mnt", "guest path is under /mnt");
        assert_refused("172.16.0.1:/srv:/mnt/x", "guest path is under /mnt");
        assert_refused("172.16.0.1:/srv:/data/../etc", "guest path contains a '..' component");
        assert_refused("172.16.0.1:/srv/..:/data", "host path contains a '..' component");
        assert_refused("172.16.0.1:/s\tv:/data", "host path contains whitespace");
        /* An empty entry is a mistake, not nothing. */
        assert_refused("172.16.0.1:/a:/x,", "is not SERVER:HOST_PATH:GUEST_PATH");
        /* The one wrong entry is named. */
        assert_refused("172.16.0.1:/a:/x,1.2.3.4:/b:/mnt", "'1.2.3.4:/b:/mnt'");
}

static void test_a_failed_parse_keeps_the_earlier(void **state) {
        SciVolumes v = {};
        char err[256] = "";

        (void) state;
        assert_int_equal(sci_volumes_parse("10.0.0.1:/a:/x", &v, err, sizeof(err)), 0);
        assert_int_equal(sci_volumes_parse("10.0.0.1:/a:/mnt", &v, err, sizeof(err)), -EINVAL);
        assert_int_equal(v.n, 1);
        assert_string_equal(v.v[0].guest_path, "/x");
        sci_volumes_done(&v);
}

static void test_too_many(void **state) {
        SciVolumes v = {};
        char value[4096] = "", err[256] = "";

        (void) state;
        for (int i = 0; i <= SCI_VOLUMES_MAX; i++)
                snprintf(value + strlen(value), sizeof(value) - strlen(value), "%s10.0.0.1:/h%d:/g%d",
                         i ? "," : "", i, i);
        assert_int_equal(sci_volumes_parse(value, &v, err, sizeof(err)), -E2BIG);
        assert_non_null(strstr(err, "more than 16 volumes"));
        assert_null(v.buf);
}

static void test_mount_options(void **state) {
        NfsVolume v = { .server = "172.16.0.1", .host_path = "/srv", .guest_path = "/data" };
        char buf[256], small[20];

        (void) state;
        assert_int_equal(sci_volume_options(&v, "2", "172.16.0.2", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vers=4.2,addr=172.16.0.1,clientaddr=172.16.0.2");
        assert_int_equal(sci_volume_options(&v, "2", "172.16.0.2", small, sizeof(small)), -ENAMETOOLONG);
}

static void test_path_problem(void **state) {
        (void) state;
        assert_null(nfs_volume_path_problem("/srv/data", false));
        assert_null(nfs_volume_path_problem("/", false));
        assert_null(nfs_volume_path_problem("/mnt/x", false));     /* fine on the host */
        assert_null(nfs_volume_path_problem("/mntx", true));
        assert_null(nfs_volume_path_problem("/a/..b", true));
        assert_string_equal(nfs_volume_path_problem("//", true), "is the root directory");
        assert_string_equal(nfs_volume_path_problem("/a,b", false), "contains ','");
        assert_string_equal(nfs_volume_path_problem("/a\x7f", false), "contains whitespace or a control character");
        assert_string_equal(nfs_volume_path_problem("", false), "is not an absolute path");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_volume_as_flake_ctl_writes_it),
                cmocka_unit_test(test_list_and_colon_in_host_path),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_a_failed_parse_keeps_the_earlier),
                cmocka_unit_test(test_too_many),
                cmocka_unit_test(test_mount_options),
                cmocka_unit_test(test_path_problem),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
