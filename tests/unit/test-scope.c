/* SPDX-License-Identifier: MIT */
/* flake_scope_enter() against a fake manager: sd_bus_open_system/user and
 * sd_bus_call are replaced with -Wl,--wrap, so the test sees exactly the
 * messages a real systemd would get. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>

#include "macro.h"
#include "scope.h"

int __wrap_sd_bus_set_address(sd_bus *bus, const char *address);
int __wrap_sd_bus_open_system(sd_bus **ret);
int __wrap_sd_bus_open_user(sd_bus **ret);
int __wrap_sd_bus_call(sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *error,
                       sd_bus_message **reply);

static int fake_peer = -1;
static int job_polls;

/* A bus object good enough to build messages on: a connection over a
 * socketpair nobody answers. */
static int fake_bus(sd_bus **ret) {
        int sv[2], r;
        sd_bus *b;

        if (mock_type(int) < 0)
                return -ENOENT;
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(sd_bus_new(&b), 0);
        assert_int_equal(sd_bus_set_fd(b, sv[0], sv[0]), 0);
        r = sd_bus_start(b);
        assert_true(r >= 0);
        if (fake_peer >= 0)
                close(fake_peer);
        fake_peer = sv[1];
        *ret = b;
        return 0;
}

/* No private socket of PID 1 here (bus_open_manager() tries it as root):
 * the system bus is what the tests below fake. */
int __wrap_sd_bus_set_address(sd_bus *bus, const char *address) {
        return -ENOENT;
}

int __wrap_sd_bus_open_system(sd_bus **ret) {
        function_called();
        return fake_bus(ret);
}

int __wrap_sd_bus_open_user(sd_bus **ret) {
        function_called();
        return fake_bus(ret);
}

static void check_start_transient_unit(sd_bus_message *m) {
        const char *unit, *mode, *name, *s;
        bool seen_pids = false, seen_collect = false, seen_delegate = false, seen_desc = false;
        char type;
        uint32_t pid;
        int b;

        assert_int_equal(sd_bus_message_read(m, "ss", &unit, &mode), 1);
        check_expected_ptr(unit);
        assert_string_equal(mode, "fail");
        assert_int_equal(sd_bus_message_enter_container(m, 'a', "(sv)"), 1);
        while (sd_bus_message_enter_container(m, 'r', "sv") > 0) {
                assert_int_equal(sd_bus_message_read(m, "s", &name), 1);
                assert_true(sd_bus_message_peek_type(m, &type, &s) > 0);
                if (streq(name, "PIDs")) {
                        assert_int_equal(sd_bus_message_enter_container(m, 'v', "au"), 1);
                        assert_int_equal(sd_bus_message_enter_container(m, 'a', "u"), 1);
                        assert_int_equal(sd_bus_message_read(m, "u", &pid), 1);
                        assert_int_equal(pid, 4242);
                        assert_int_equal(sd_bus_message_exit_container(m), 1);
                        assert_int_equal(sd_bus_message_exit_container(m), 1);
                        seen_pids = true;
                } else if (streq(name, "Delegate")) {
                        assert_int_equal(sd_bus_message_read(m, "v", "b", &b), 1);
                        assert_true(b);
                        seen_delegate = true;
                } else {
                        assert_int_equal(sd_bus_message_read(m, "v", "s", &s), 1);
                        if (streq(name, "CollectMode")) {
                                assert_string_equal(s, "inactive-or-failed");
                                seen_collect = true;
                        } else if (streq(name, "Description")) {
                                assert_non_null(strstr(s, "myapp"));
                                assert_non_null(strchr(s, '('));
                                seen_desc = true;
                        } else if (streq(name, "Slice"))
                                assert_true(endswith(s, ".slice"));
                        else
                                fail_msg("unexpected property %s", name);
                }
                assert_int_equal(sd_bus_message_exit_container(m), 1);
        }
        assert_true(seen_pids && seen_collect && seen_desc);
        assert_int_equal(seen_delegate, mock_type(int));
}

int __wrap_sd_bus_call(sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *error,
                       sd_bus_message **reply) {
        sd_bus_message *r = NULL;
        const char *member;
        int ret;

        /* Sealing reallocates the header: read the member only afterwards. */
        assert_true(sd_bus_message_seal(m, 1, 0) >= 0);
        assert_int_equal(sd_bus_message_rewind(m, true), 1);
        member = sd_bus_message_get_member(m);

        if (streq(member, "StartTransientUnit")) {
                ret = mock_type(int);
                if (ret < 0)
                        return sd_bus_error_set(error, "org.freedesktop.systemd1.UnitExists", "exists");
                check_start_transient_unit(m);
                assert_true(sd_bus_message_new_method_return(m, &r) >= 0);
                assert_true(sd_bus_message_append(r, "o", "/org/freedesktop/systemd1/job/7") >= 0);
                assert_true(sd_bus_message_seal(r, 2, 0) >= 0);
                assert_int_equal(sd_bus_message_rewind(r, true), 1);
                *reply = r;
                return 1;
        }
        assert_string_equal(member, "Get");
        assert_string_equal(sd_bus_message_get_path(m), "/org/freedesktop/systemd1/job/7");
        /* The job is still there for the first poll, gone for the second. */
        if (job_polls++ == 0) {
                assert_true(sd_bus_message_new_method_return(m, &r) >= 0);
                assert_true(sd_bus_message_append(r, "v", "s", "running") >= 0);
                assert_true(sd_bus_message_seal(r, 3, 0) >= 0);
                *reply = r;
                return 1;
        }
        return sd_bus_error_set(error, SD_BUS_ERROR_UNKNOWN_OBJECT, "no job");
}

static void test_unit_name(void **state) {
        _cleanup_free_ char *a = flake_scope_unit_name("myapp", NULL, 12);
        _cleanup_free_ char *b = flake_scope_unit_name("myapp", "myapp@x-1", 12);

        assert_string_equal(a, "flake-myapp-12.scope");
        assert_string_equal(b, "flake-myapp\\x40x\\x2d1-12.scope");
}

static void test_container_unit_name(void **state) {
        _cleanup_free_ char *a = flake_container_scope_unit_name("myapp");
        _cleanup_free_ char *b = flake_container_scope_unit_name("myapp@x-1");

        assert_string_equal(a, "flake-myapp-container.scope");
        assert_string_equal(b, "flake-myapp\\x40x\\x2d1-container.scope");
}

static void test_enter_container(void **state) {
        _cleanup_free_ char *unit = NULL;

        job_polls = 0;
        expect_function_call(__wrap_sd_bus_open_user);
        will_return(fake_bus, 0);
        will_return(__wrap_sd_bus_call, 0);
        expect_string(check_start_transient_unit, unit, "flake-myapp-container.scope");
        will_return(check_start_transient_unit, true);
        assert_int_equal(flake_scope_enter_container("myapp", "podman", 4242,
                                                     FLAKE_SCOPE_USER | FLAKE_SCOPE_DELEGATE, &unit), 0);
        assert_string_equal(unit, "flake-myapp-container.scope");
}

static void test_enter_user_bus(void **state) {
        _cleanup_free_ char *unit = NULL;

        job_polls = 0;
        expect_function_call(__wrap_sd_bus_open_user);
        will_return(fake_bus, 0);
        will_return(__wrap_sd_bus_call, 0);
        expect_string(check_start_transient_unit, unit, "flake-myapp-4242.scope");
        will_return(check_start_transient_unit, true);
        assert_int_equal(flake_scope_enter("myapp", NULL, "podman", 4242,
                                           FLAKE_SCOPE_USER | FLAKE_SCOPE_DELEGATE, &unit), 0);
        assert_string_equal(unit, "flake-myapp-4242.scope");
        assert_int_equal(job_polls, 2);
}

static void test_enter_no_delegate(void **state) {
        job_polls = 0;
        expect_function_call(__wrap_sd_bus_open_user);
        will_return(fake_bus, 0);
        will_return(__wrap_sd_bus_call, 0);
        expect_string(check_start_transient_unit, unit, "flake-myapp\\x40a-4242.scope");
        will_return(check_start_transient_unit, false);
        assert_int_equal(flake_scope_enter("myapp", "myapp@a", "firecracker", 4242,
                                           FLAKE_SCOPE_USER, NULL), 0);
}

static void test_no_bus(void **state) {
        expect_function_call(__wrap_sd_bus_open_user);
        will_return(fake_bus, -1);
        assert_int_equal(flake_scope_enter("myapp", NULL, "podman", 4242, FLAKE_SCOPE_USER, NULL),
                         FLAKE_SCOPE_NO_BUS);
}

static void test_manager_refuses(void **state) {
        expect_function_call(__wrap_sd_bus_open_user);
        will_return(fake_bus, 0);
        will_return(__wrap_sd_bus_call, -1);
        int r = flake_scope_enter("myapp", NULL, "podman", 4242, FLAKE_SCOPE_USER, NULL);
        assert_true(r < 0);
        assert_int_not_equal(r, FLAKE_SCOPE_NO_BUS);
}

/* No address and no socket: no bus, decided without touching sd-bus (the
 * wrapped open functions must not be called). */
static void test_no_socket_fails_fast(void **state) {
        char dir[] = "/tmp/test-scope.XXXXXX";

        assert_non_null(mkdtemp(dir));
        assert_int_equal(unsetenv("DBUS_SESSION_BUS_ADDRESS"), 0);
        assert_int_equal(setenv("XDG_RUNTIME_DIR", dir, 1), 0);
        assert_int_equal(flake_scope_enter("myapp", NULL, "podman", 4242, FLAKE_SCOPE_USER, NULL),
                         FLAKE_SCOPE_NO_BUS);
        assert_int_equal(setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/fake", 1), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_system_bus_for_root(void **state) {
        if (geteuid() != 0)
                skip();
        expect_function_call(__wrap_sd_bus_open_system);
        will_return(fake_bus, -1);
        assert_int_equal(flake_scope_enter("myapp", NULL, "podman", 4242, 0, NULL),
                         FLAKE_SCOPE_NO_BUS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unit_name),
                cmocka_unit_test(test_container_unit_name),
                cmocka_unit_test(test_enter_container),
                cmocka_unit_test(test_enter_user_bus),
                cmocka_unit_test(test_enter_no_delegate),
                cmocka_unit_test(test_no_bus),
                cmocka_unit_test(test_manager_refuses),
                cmocka_unit_test(test_no_socket_fails_fast),
                cmocka_unit_test(test_system_bus_for_root),
        };
        /* The opens are faked: make the socket check pass. */
        setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/fake", 1);
        setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/fake", 1);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
