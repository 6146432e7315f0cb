/* SPDX-License-Identifier: MIT */
/* Where instance state lives and what is refused on the way (issue 12.4):
 * lib/basic/paths.c flake_instance_state_dir(), plus the cid helper
 * that read and show it. Other users are played by forked children that
 * switch to uid 65534 (so this test needs root, and says so). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "podman.h"

#define OTHER 65534
#define THIRD 65533

static char dir[] = "/tmp/test-state-dir-XXXXXX";
static char *root;

static char *at(const char *rel) {
        return path_join(dir, rel);
}

static void mkdir_owned(const char *rel, mode_t mode, uid_t uid) {
        _cleanup_free_ char *p = at(rel);
        assert_int_equal(mkdir_p(p, 0755), 0);
        assert_int_equal(chmod(p, mode), 0);
        assert_int_equal(chown(p, uid, uid), 0);
}

static int setup(void **state) {
        if (geteuid() != 0)
                fail_msg("test-state-dir needs root: it plays other users with setresuid()");
        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, 0755), 0);
        root = at("root");
        setenv("FLAKE_ROOT", root, 1);
        unsetenv("FLAKE_RUNTIME_DIR");
        mkdir_owned("root/tmp", 01777, 0);
        log_set_max_level(LOG_EMERG);  /* errors are asserted, not printed */
        return 0;
}

static int teardown(void **state) {
        free(root);
        return rm_rf(dir);
}

/* Runs flake_instance_state_dir(ids, create) as uid; returns its result
 * (0 for any fd) and, through the exit status, whether the path matched. */
static int state_dir_as(uid_t uid, const char *ids, const char *xdg, const char *expect_path) {
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                _cleanup_free_ char *path = NULL;
                int fd;

                if (uid != 0 && (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0))
                        _exit(100);
                if (xdg)
                        setenv("XDG_RUNTIME_DIR", xdg, 1);
                else
                        unsetenv("XDG_RUNTIME_DIR");
                fd = flake_instance_state_dir(ids, true, &path);
                if (fd < 0)
                        _exit(fd == -EPERM ? 1 : fd == -ENOENT ? 2 : fd == -ENOTDIR ? 3 : 99);
                _exit(expect_path && !streq(path, expect_path) ? 98 : 0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static void test_root_default_is_under_run(void **state) {
        _cleanup_free_ char *expect = at("root/run/flakes/ids/0");
        struct stat st;

        /* Not /tmp/flakes/0, whatever is there. */
        mkdir_owned("root/tmp/flakes", 01777, OTHER);
        assert_int_equal(state_dir_as(0, flake_path(FLAKE_PATH_IDS_DIR), NULL, expect), 0);
        assert_int_equal(lstat(expect, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(st.st_uid, 0);
        _cleanup_free_ char *t = at("root/tmp/flakes");
        assert_int_equal(rm_rf(t), 0);
}

static void test_user_prefers_runtime_dir(void **state) {
        _cleanup_free_ char *xdg = at("xdg"), *expect = at("xdg/flakes");

        mkdir_owned("xdg", 0700, OTHER);
        /* Another user squatted the shared fallback: it does not matter. */
        mkdir_owned("root/tmp/flakes", 01777, 0);
        mkdir_owned("root/tmp/flakes/65534", 0700, THIRD);
        assert_int_equal(state_dir_as(OTHER, flake_path(FLAKE_PATH_IDS_DIR), xdg, expect), 0);
        /* Without a runtime dir the squatted fallback is refused. */
        assert_int_equal(state_dir_as(OTHER, flake_path(FLAKE_PATH_IDS_DIR), NULL, NULL), 1);
        /* A runtime dir of someone else is refused too. */
        assert_int_equal(state_dir_as(THIRD, flake_path(FLAKE_PATH_IDS_DIR), xdg, NULL), 1);
        _cleanup_free_ char *t = at("root/tmp/flakes");
        assert_int_equal(rm_rf(t), 0);
}

static void test_user_fallback(void **state) {
        _cleanup_free_ char *expect = at("root/tmp/flakes/65534"), *base = at("root/tmp/flakes");

        /* A missing shared base is root's to make: a user who made it
         * would own it. */
        assert_int_equal(state_dir_as(OTHER, flake_path(FLAKE_PATH_IDS_DIR), NULL, NULL), 2);
        assert_false(path_exists(base));
        mkdir_owned("root/tmp/flakes", 01777, 0);
        assert_int_equal(state_dir_as(OTHER, flake_path(FLAKE_PATH_IDS_DIR), NULL, expect), 0);
        /* A base owned by a user is refused by root and by everyone else. */
        assert_int_equal(chown(base, THIRD, THIRD), 0);
        assert_int_equal(state_dir_as(OTHER, flake_path(FLAKE_PATH_IDS_DIR), NULL, NULL), 1);
        assert_int_equal(rm_rf(base), 0);
}

static void test_configured_ids_dir(void **state) {
        _cleanup_free_ char *ids = at("ids"), *expect = at("ids/0"), *link = at("link");
        _cleanup_free_ char *via_link = at("link/ids"), *shared = at("shared");
        struct stat st;

        /* Created by root, sticky for the users' own dirs. */
        assert_int_equal(state_dir_as(0, ids, NULL, expect), 0);
        assert_int_equal(lstat(ids, &st), 0);
        assert_int_equal(st.st_mode & 07777, 01777);
        assert_int_equal(state_dir_as(OTHER, ids, "/nonexistent", NULL), 0);
        /* Only the base of the private dirs is shared. */
        _cleanup_free_ char *deep = at("deep/er/ids"), *deep_mid = at("deep/er");
        assert_int_equal(state_dir_as(0, deep, NULL, NULL), 0);
        assert_int_equal(lstat(deep_mid, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(lstat(deep, &st), 0);
        assert_int_equal(st.st_mode & 07777, 01777);
        /* No symlink anywhere on the path. */
        assert_int_equal(symlink(dir, link), 0);
        assert_int_equal(state_dir_as(0, via_link, NULL, NULL), 3);
        /* Writable by others without the sticky bit. */
        mkdir_owned("shared", 0777, 0);
        assert_int_equal(state_dir_as(0, shared, NULL, NULL), 1);
        /* A per-user dir writable by others. */
        assert_int_equal(chmod(expect, 0770), 0);
        assert_int_equal(state_dir_as(0, ids, NULL, NULL), 1);
        /* Readable by others: made private. */
        assert_int_equal(chmod(expect, 0755), 0);
        assert_int_equal(state_dir_as(0, ids, NULL, expect), 0);
        assert_int_equal(lstat(expect, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
}

static void test_cid_files(void **state) {
        _cleanup_free_ char *f = at("x.cid"), *l = at("l.cid");
        _cleanup_free_ char *cid = NULL;
        const char *id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

        assert_true(podman_container_id_is_valid(id));
        assert_true(podman_container_id_is_valid("0123456789ab"));
        assert_false(podman_container_id_is_valid("0123456789a"));
        assert_false(podman_container_id_is_valid("--all"));
        assert_false(podman_container_id_is_valid("0123456789AB"));
        assert_false(podman_container_id_is_valid(""));
        assert_false(podman_container_id_is_valid(NULL));

        assert_int_equal(podman_read_cid_file(AT_FDCWD, f, &cid), -ENOENT);
        assert_int_equal(write_file_atomic(f, "", 0, 0600), 0);
        assert_int_equal(podman_read_cid_file(AT_FDCWD, f, &cid), -ENOENT);
        assert_int_equal(write_file_atomic(f, id, strlen(id), 0600), 0);
        assert_int_equal(podman_read_cid_file(AT_FDCWD, f, &cid), 0);
        assert_string_equal(cid, id);
        assert_int_equal(write_file_atomic(f, "--all\n", 6, 0600), 0);
        assert_int_equal(podman_read_cid_file(AT_FDCWD, f, &cid), -EBADMSG);
        assert_int_equal(write_file_atomic(f, "abcdef012345 --all", 18, 0600), 0);
        assert_int_equal(podman_read_cid_file(AT_FDCWD, f, &cid), -EBADMSG);
        assert_int_equal(symlink(f, l), 0);
        assert_int_equal(podman_read_cid_file(AT_FDCWD, l, &cid), -ELOOP);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_root_default_is_under_run),
                cmocka_unit_test(test_user_prefers_runtime_dir),
                cmocka_unit_test(test_user_fallback),
                cmocka_unit_test(test_configured_ids_dir),
                cmocka_unit_test(test_cid_files),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
