/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "agent-protocol.h"
#include "strv.h"
#include "vm-bootargs.h"
#include "vm-config.h"
#include "vm-runner.h"

static char *template_args[] = {
        (char *) "init=/usr/sbin/sci", (char *) "console=ttyS0", (char *) "root=/dev/vda",
        (char *) "acpi=off", (char *) "ip=dhcp", (char *) "quiet", NULL,
};

static void test_bootargs_serial_order(void **state) {
        char *run[] = { (char *) "/usr/bin/ls", (char *) "-l", (char *) "--all", (char *) "a b", (char *) "", NULL };
        VmBootArgs a = {
                .boot_args = template_args, .pilot_debug = true, .overlay = true,
                .term = "xterm-256color", .rows = 40, .cols = 120, .run_argv = run,
        };
        _cleanup_free_ char *s = vm_boot_args_build(&a);

        assert_string_equal(s,
                "PILOT_DEBUG=1 overlay_root=/dev/vdb sci_term=xterm-256color sci_lines=40 sci_columns=120 "
                "init=/usr/sbin/sci console=ttyS0 root=/dev/vda acpi=off ip=dhcp quiet "
                "run=\"/usr/bin/ls \\-l \\-\\-all a\\ b ''\"");
}

static void test_bootargs_agent(void **state) {
        char *drop[] = { (char *) "ip=", (char *) "acpi=off", NULL };
        VmBootArgs a = { .boot_args = template_args, .agent = true, .term = "bad term;rm", .drop = drop };
        _cleanup_free_ char *s = vm_boot_args_build(&a), *t = NULL, *u = NULL;

        /* Without PILOT_DEBUG the console is silenced, as in the original. */
        assert_string_equal(s, "init=/usr/sbin/sci console= root=/dev/vda quiet run=vsock");

        a.keep_console = true;
        t = vm_boot_args_build(&a);
        assert_string_equal(t, "init=/usr/sbin/sci console=ttyS0 root=/dev/vda quiet run=vsock");

        char *bad[] = { (char *) "/bin/echo", (char *) "say \"hi\"", NULL };
        VmBootArgs b = { .run_argv = bad };
        u = vm_boot_args_build(&b);
        assert_null(u);
}

static void test_bootargs_mode(void **state) {
        _cleanup_strv_free_ char **a = NULL, **b = NULL;
        _cleanup_free_ char *ja = NULL, *jb = NULL;

        strv_extend(&a, "console=ttyS0");
        strv_extend(&a, "sci_resume=1");

        /* Registration and boot both add them: once. */
        vm_boot_args_add_mode(&a, true, true);
        vm_boot_args_add_mode(&a, true, true);
        ja = strv_join(a, " ");
        assert_string_equal(ja, "console=ttyS0 sci_resume=1 sci_force_vsock=1");
        vm_boot_args_add_mode(&b, false, false);
        assert_null(b);
        vm_boot_args_add_mode(&b, false, true);
        jb = strv_join(b, " ");
        assert_string_equal(jb, "sci_force_vsock=1");
}

static void test_agent_timeout(void **state) {
        static const struct { const char *value; unsigned sec; } cases[] = {
                { NULL, 60 }, { "", 60 }, { "8", 8 }, { "0", 60 }, { "-5", 60 }, { "+5", 60 },
                { "8x", 60 }, { " 8", 60 }, { "99999999999999999999", 60 }, { "86400", 86400 },
        };

        for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
                if (cases[k].value)
                        assert_int_equal(setenv(VM_AGENT_TIMEOUT_ENV, cases[k].value, 1), 0);
                else
                        assert_int_equal(unsetenv(VM_AGENT_TIMEOUT_ENV), 0);
                assert_int_equal(vm_agent_timeout_sec(), cases[k].sec);
        }
        assert_int_equal(unsetenv(VM_AGENT_TIMEOUT_ENV), 0);
}

static void test_term(void **state) {
        assert_true(vm_term_is_safe("xterm"));
        assert_true(vm_term_is_safe("screen.xterm-256color"));
        assert_false(vm_term_is_safe(""));
        assert_false(vm_term_is_safe(NULL));
        assert_false(vm_term_is_safe("a b"));
        assert_false(vm_term_is_safe("123456789012345678901234567890123"));
}

static void test_firecracker_config(void **state) {
        VmSpec s = {
                .kernel = "/var/lib/firecracker/images/x/kernel", .initrd = "/i", .rootfs = "/r",
                .overlay = "/o", .cache_type = "Unsafe", .boot_args = "a b", .mem_size_mib = 512,
                .vcpu_count = 2, .tap = "tap-x", .vsock_uds = "/run/flakes/vm/x/vsock.sock",
        };
        _cleanup_free_ char *json = NULL;
        json_object *root, *o, *d;

        assert_int_equal(vm_firecracker_config(&s, &json), 0);
        root = json_tokener_parse(json);
        assert_non_null(root);
        assert_true(json_object_object_get_ex(root, "boot-source", &o));
        assert_string_equal(json_object_get_string(json_object_object_get(o, "kernel_image_path")),
                            "/var/lib/firecracker/images/x/kernel");
        assert_string_equal(json_object_get_string(json_object_object_get(o, "boot_args")), "a b");
        assert_true(json_object_object_get_ex(root, "drives", &o));
        assert_int_equal(json_object_array_length(o), 2);
        d = json_object_array_get_idx(o, 0);
        assert_true(json_object_get_boolean(json_object_object_get(d, "is_read_only")));
        assert_true(json_object_get_boolean(json_object_object_get(d, "is_root_device")));
        d = json_object_array_get_idx(o, 1);
        assert_string_equal(json_object_get_string(json_object_object_get(d, "cache_type")), "Unsafe");
        assert_false(json_object_get_boolean(json_object_object_get(d, "is_read_only")));
        assert_true(json_object_object_get_ex(root, "vsock", &o));
        assert_int_equal(json_object_get_int(json_object_object_get(o, "guest_cid")), 3);
        assert_true(json_object_object_get_ex(root, "network-interfaces", &o));
        assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(o, 0),
                                                                          "host_dev_name")), "tap-x");
        json_object_put(root);
        free(TAKE_PTR(json));

        /* No initrd, no overlay, no TAP: those keys are absent. */
        s.initrd = s.overlay = s.tap = NULL;
        assert_int_equal(vm_firecracker_config(&s, &json), 0);
        root = json_tokener_parse(json);
        assert_false(json_object_object_get_ex(root, "network-interfaces", NULL));
        assert_true(json_object_object_get_ex(root, "boot-source", &o));
        assert_false(json_object_object_get_ex(o, "initrd_path", NULL));
        json_object_put(root);

        s.vcpu_count = 3;
        assert_int_equal(vm_firecracker_config(&s, &json), -EINVAL);
        s.vcpu_count = 1;
        s.cache_type = "writeback";
        assert_int_equal(vm_firecracker_config(&s, &json), -EINVAL);
}

static void test_qemu_argv(void **state) {
        VmSpec s = { .kernel = "/k", .rootfs = "/a,b", .overlay = "/o", .boot_args = "x",
                     .serial_socket = "/run/s.sock", .qemu_accel = "tcg", .mem_size_mib = 256, .vcpu_count = 1 };
        _cleanup_strv_free_ char **a = vm_qemu_argv(&s, "qemu-system-x86_64");
        _cleanup_free_ char *j = strv_join(a, " ");

        assert_non_null(strstr(j, "-M microvm -accel tcg"));
        assert_non_null(strstr(j, "-m 256 -smp 1"));
        assert_non_null(strstr(j, "id=rootfs,file=/a,,b,format=raw,if=none,readonly=on"));
        assert_non_null(strstr(j, "id=overlay,file=/o,format=raw,if=none,cache=writeback"));
        assert_non_null(strstr(j, "socket,id=agent,path=/run/s.sock,server=on,wait=off"));
        assert_non_null(strstr(j, "virtserialport,chardev=agent,name=" AGENT_SERIAL_PORT_NAME));
        assert_non_null(strstr(j, "-no-reboot"));
        assert_non_null(strstr(j, "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"));
        assert_null(strstr(j, "-initrd"));
        assert_null(strstr(j, "-netdev"));
}

/* QEMU's user-mode network: a -netdev user with the given options and the
 * same NIC as on a TAP; Firecracker has none. */
static void test_user_net(void **state) {
        VmSpec s = { .kernel = "/k", .rootfs = "/r", .boot_args = "x", .qemu_accel = "tcg",
                     .user_net = "net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3" };
        _cleanup_strv_free_ char **a = vm_qemu_argv(&s, "qemu-system-x86_64");
        _cleanup_free_ char *j = strv_join(a, " ");
        _cleanup_free_ char *json = NULL;

        assert_non_null(strstr(j, "-netdev user,id=net0,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3 "
                                  "-device virtio-net-device,netdev=net0,mac=" VM_GUEST_MAC));
        assert_null(strstr(j, "tap,"));
        assert_int_equal(vm_firecracker_config(&s, &json), -EOPNOTSUPP);
        assert_null(json);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bootargs_serial_order),
                cmocka_unit_test(test_bootargs_agent),
                cmocka_unit_test(test_bootargs_mode),
                cmocka_unit_test(test_agent_timeout),
                cmocka_unit_test(test_term),
                cmocka_unit_test(test_firecracker_config),
                cmocka_unit_test(test_qemu_argv),
                cmocka_unit_test(test_user_net),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
