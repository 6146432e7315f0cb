/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "fileio.h"
#include "log.h"

static char dir[] = "/tmp/test-config-XXXXXX";

static int setup(void **state) {
        assert_non_null(mkdtemp(dir));
        unsetenv("FLAKES_DIR");
        unsetenv("FLAKE_ROOT");
        log_set_max_level(LOG_EMERG);  /* errors are asserted, not printed */
        return 0;
}

static int teardown(void **state) {
        return rm_rf(dir);
}

static void write_fixture(const char *name, const char *text) {
        _cleanup_free_ char *p = path_join(dir, name);
        assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static void test_system_defaults(void **state) {
        _cleanup_free_ char *p = path_join(dir, "missing.yml");
        FlakeConfig c;

        setenv("FLAKE_CONFIG", p, 1);
        assert_int_equal(flake_config_load_system(&c), 0);
        assert_string_equal(c.flakes_dir, "/usr/share/flakes");
        assert_string_equal(c.podman_ids_dir, "/tmp/flakes");
        assert_string_equal(c.firecracker_ids_dir, "/tmp/flakes");
        assert_string_equal(c.podman_storage_conf, "/etc/flakes/storage.conf");
        assert_null(c.path);
        flake_config_done(&c);
}

/* flake_path() caches, so these tests set FLAKE_CONFIG once per process
 * group: the same path, rewritten between tests. */
static void test_system_file_overrides(void **state) {
        _cleanup_free_ char *p = path_join(dir, "missing.yml");
        FlakeConfig c;

        write_fixture("missing.yml", "generic:\n  flakes_dir: /srv/flakes\n  unknown: 1\n");
        assert_int_equal(flake_config_load_system(&c), 0);
        assert_string_equal(c.flakes_dir, "/srv/flakes");
        assert_string_equal(c.podman_ids_dir, "/tmp/flakes");
        assert_string_equal(c.path, p);
        flake_config_done(&c);

        setenv("FLAKES_DIR", "/elsewhere", 1);
        assert_int_equal(flake_config_load_system(&c), 0);
        assert_string_equal(c.flakes_dir, "/elsewhere");
        flake_config_done(&c);
        unsetenv("FLAKES_DIR");
}

static void test_system_file_errors(void **state) {
        FlakeConfig c;

        write_fixture("missing.yml", "generic:\n  flakes_dir: relative\n");
        assert_int_equal(flake_config_load_system(&c), -EINVAL);
        write_fixture("missing.yml", "generic: [1]\n");
        assert_int_equal(flake_config_load_system(&c), -EINVAL);
        write_fixture("missing.yml", "generic: {flakes_dir: [\n");
        assert_int_equal(flake_config_load_system(&c), -EBADMSG);
}

static void test_user_config(void **state) {
        _cleanup_free_ char *p = path_join(dir, "user.yml");
        FlakeConfig c, system = { .podman_ids_dir = (char *) "/tmp/flakes", .firecracker_ids_dir = (char *) "/tmp/flakes" };
        _cleanup_free_ char *t = flake_config_user_template("/home/u", &system);

        setenv("FLAKE_USER_CONFIG", p, 1);
        assert_int_equal(flake_config_load_user(&c), -ENOENT);

        write_fixture("user.yml", "generic:\n  flakes_dir: /home/u/.config/flakes\n");
        assert_int_equal(flake_config_load_user(&c), -ENOENT);   /* incomplete */

        write_fixture("user.yml", t);
        assert_int_equal(flake_config_load_user(&c), 0);
        assert_true(c.user);
        assert_string_equal(c.flakes_dir, "/home/u/.config/flakes");
        assert_string_equal(c.podman_storage_conf, "/home/u/.config/flakes/podman/storage.conf");
        flake_config_done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_system_defaults),
                cmocka_unit_test(test_system_file_overrides),
                cmocka_unit_test(test_system_file_errors),
                cmocka_unit_test(test_user_config),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
