/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>

#include "agent-protocol.h"
#include "strv.h"
#include "vm-config.h"

int vm_spec_validate(const VmSpec *s, char **ret_error) {
        char *e = NULL;

        if (s->vcpu_count > 32 || (s->vcpu_count > 1 && s->vcpu_count % 2 != 0))
                e = xasprintf("vcpu_count %llu: must be 1 or an even number up to 32",
                              (unsigned long long) s->vcpu_count);
        else if (s->cache_type && !streq(s->cache_type, "Writeback") && !streq(s->cache_type, "Unsafe"))
                e = xasprintf("cache_type '%s': must be Writeback or Unsafe", s->cache_type);
        else if (s->mem_size_mib > 0 && s->mem_size_mib < 32)
                e = xasprintf("mem_size_mib %llu: too small for a guest", (unsigned long long) s->mem_size_mib);
        if (!e)
                return 0;
        if (ret_error)
                *ret_error = e;
        else
                free(e);
        return -EINVAL;
}

static json_object *drive(const char *id, const char *path, bool root, bool ro, const char *cache) {
        json_object *d = json_object_new_object();

        json_object_object_add(d, "drive_id", json_object_new_string(id));
        json_object_object_add(d, "path_on_host", json_object_new_string(path));
        json_object_object_add(d, "is_root_device", json_object_new_boolean(root));
        json_object_object_add(d, "is_read_only", json_object_new_boolean(ro));
        json_object_object_add(d, "cache_type", json_object_new_string(cache));
        return d;
}

int vm_firecracker_config(const VmSpec *s, char **ret_json) {
        json_object *root, *boot, *drives, *machine, *vsock;
        int r;

        r = vm_spec_validate(s, NULL);
        if (r < 0)
                return r;
        if (s->user_net)
                return -EOPNOTSUPP;     /* Firecracker has only TAP devices */

        root = json_object_new_object();
        if (!root)
                abort();

        boot = json_object_new_object();
        json_object_object_add(boot, "kernel_image_path", json_object_new_string(s->kernel));
        if (s->initrd)
                json_object_object_add(boot, "initrd_path", json_object_new_string(s->initrd));
        json_object_object_add(boot, "boot_args", json_object_new_string(strempty(s->boot_args)));
        json_object_object_add(root, "boot-source", boot);

        /* The root drive is read-only, so its cache mode does not matter;
         * the flake's cache_type applies to the overlay, as in the
         * original. */
        drives = json_object_new_array();
        json_object_array_add(drives, drive("rootfs", s->rootfs, true, true, "Writeback"));
        if (s->overlay)
                json_object_array_add(drives, drive(VM_FIRECRACKER_OVERLAY_DRIVE, s->overlay, false, false,
                                                    s->cache_type ?: "Writeback"));
        json_object_object_add(root, "drives", drives);

        machine = json_object_new_object();
        json_object_object_add(machine, "vcpu_count",
                               json_object_new_int64((int64_t) (s->vcpu_count ?: VM_DEFAULT_VCPUS)));
        json_object_object_add(machine, "mem_size_mib",
                               json_object_new_int64((int64_t) (s->mem_size_mib ?: VM_DEFAULT_MEM_MIB)));
        json_object_object_add(root, "machine-config", machine);

        if (s->tap) {
                json_object *nics = json_object_new_array(), *n = json_object_new_object();
                json_object_object_add(n, "iface_id", json_object_new_string(VM_FIRECRACKER_IFACE));
                json_object_object_add(n, "guest_mac", json_object_new_string(s->mac ?: VM_GUEST_MAC));
                json_object_object_add(n, "host_dev_name", json_object_new_string(s->tap));
                json_object_array_add(nics, n);
                json_object_object_add(root, "network-interfaces", nics);
        }

        vsock = json_object_new_object();
        json_object_object_add(vsock, "guest_cid", json_object_new_int(VM_GUEST_CID));
        json_object_object_add(vsock, "uds_path", json_object_new_string(s->vsock_uds));
        json_object_object_add(root, "vsock", vsock);

        *ret_json = xstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
        return 0;
}

/* QEMU's -drive/-chardev option syntax uses ',' as separator; a literal
 * comma in a path is written ",,". */
static char *qemu_escape(const char *s) {
        char *out = xmalloc(strlen(s) * 2 + 1), *p = out;

        for (; *s; s++) {
                *p++ = *s;
                if (*s == ',')
                        *p++ = ',';
        }
        *p = 0;
        return out;
}

char **vm_qemu_argv(const VmSpec *s, const char *qemu_binary) {
        /* -kernel takes a plain path; -drive's is a comma-separated list. */
        _cleanup_free_ char *rootfs = qemu_escape(s->rootfs);
        char **a = NULL;

        strv_extend(&a, qemu_binary);
        /* microvm with ACPI: distribution kernels find virtio-mmio devices
         * through ACPI (Debian's lacks VIRTIO_MMIO_CMDLINE_DEVICES). */
        strv_extend(&a, "-M");
        strv_extend(&a, "microvm");
        strv_extend(&a, "-accel");
        strv_extend(&a, s->qemu_accel ?: "kvm");
        strv_extend(&a, "-cpu");
        strv_extend(&a, "max");
        strv_extend(&a, "-m");
        strv_consume(&a, xasprintf("%llu", (unsigned long long) (s->mem_size_mib ?: VM_DEFAULT_MEM_MIB)));
        strv_extend(&a, "-smp");
        strv_consume(&a, xasprintf("%llu", (unsigned long long) (s->vcpu_count ?: VM_DEFAULT_VCPUS)));
        strv_extend(&a, "-nodefaults");
        strv_extend(&a, "-no-user-config");
        strv_extend(&a, "-nographic");
        /* The guest's reboot or power-off ends the VMM, as with Firecracker. */
        strv_extend(&a, "-no-reboot");
        /* QEMU's own seccomp filter on top of the unit's: no obsolete
         * system calls, no set*id, no fork/exec (the TAP comes opened
         * without scripts), no scheduler or resource changes. */
        strv_extend(&a, "-sandbox");
        strv_extend(&a, VM_QEMU_SANDBOX);
        /* Console on our stdio, no monitor, no signals from a terminal.
         * Under flake-vm@ stdout is the journal's stream socket, which
         * "file,path=/dev/stdout" cannot open (ENXIO): the stdio backend
         * writes to the inherited fd instead (without reopening it, so a
         * log file is neither truncated nor overwritten); its stdin is
         * /dev/null there.
         * In serial mode the console is the program's terminal, and Ctrl-C
         * a byte for the guest, not a signal for QEMU. */
        strv_extend(&a, "-chardev");
        strv_extend(&a, "stdio,id=console,signal=off");
        strv_extend(&a, "-serial");
        strv_extend(&a, "chardev:console");
        strv_extend(&a, "-kernel");
        strv_extend(&a, s->kernel);
        if (s->initrd) {
                strv_extend(&a, "-initrd");
                strv_extend(&a, s->initrd);
        }
        strv_extend(&a, "-append");
        strv_extend(&a, strempty(s->boot_args));
        strv_extend(&a, "-drive");
        strv_consume(&a, xasprintf("id=rootfs,file=%s,format=raw,if=none,readonly=on", rootfs));
        strv_extend(&a, "-device");
        strv_extend(&a, "virtio-blk-device,drive=rootfs");
        if (s->overlay) {
                _cleanup_free_ char *o = qemu_escape(s->overlay);
                strv_extend(&a, "-drive");
                strv_consume(&a, xasprintf("id=overlay,file=%s,format=raw,if=none,cache=%s", o,
                                           streq_ptr(s->cache_type, "Unsafe") ? "unsafe" : "writeback"));
                strv_extend(&a, "-device");
                strv_extend(&a, "virtio-blk-device,drive=overlay");
        }
        if (s->tap || s->user_net) {
                strv_extend(&a, "-netdev");
                if (s->tap)
                        strv_consume(&a, xasprintf("tap,id=net0,ifname=%s,script=no,downscript=no", s->tap));
                else
                        strv_consume(&a, xasprintf("user,id=net0,%s", s->user_net));
                strv_extend(&a, "-device");
                strv_consume(&a, xasprintf("virtio-net-device,netdev=net0,mac=%s", s->mac ?: VM_GUEST_MAC));
        }
        if (s->serial_socket) {
                _cleanup_free_ char *p = qemu_escape(s->serial_socket);
                strv_extend(&a, "-device");
                strv_extend(&a, "virtio-serial-device");
                strv_extend(&a, "-chardev");
                strv_consume(&a, xasprintf("socket,id=agent,path=%s,server=on,wait=off", p));
                strv_extend(&a, "-device");
                strv_extend(&a, "virtserialport,chardev=agent,name=" AGENT_SERIAL_PORT_NAME);
        }
        if (s->qmp_socket) {
                /* For flake-vm's snapshot (stop, migrate to a file, cont).
                 * The stream leaves out the run state (paused when it was
                 * saved), so that a restore (-incoming) starts running. */
                _cleanup_free_ char *p = qemu_escape(s->qmp_socket);
                strv_extend(&a, "-qmp");
                strv_consume(&a, xasprintf("unix:%s,server=on,wait=off", p));
                strv_extend(&a, "-global");
                strv_extend(&a, "migration.store-global-state=off");
        }
        return a;
}
