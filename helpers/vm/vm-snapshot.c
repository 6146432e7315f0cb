/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-id128.h>

#include "fileio.h"
#include "log.h"
#include "firecracker-api.h"
#include "network-config.h"
#include "qmp.h"
#include "strv.h"
#include "time-util.h"
#include "vm-config.h"
#include "vm-snapshot.h"
#include "vm-volumes.h"

#define KEY_MAX (256U * 1024U)
#define SAVE_TIMEOUT_MS 120000

bool vm_snapshot_wanted(const VmInstance *i) {
        /* A restored VM would come back with the NFS client state of the
         * one that was saved (its client identity, session and open
         * files): every clone would be the same client to the server. A
         * flake with volumes boots and mounts on each call. */
        return !i->flake->resume && i->flake->snapshot && !vm_instance_has_volumes(i->flake, i->name);
}

static void key_file(char ***lines, const char *what, const char *path) {
        struct stat st;

        if (!path)
                return;
        if (stat(path, &st) < 0) {
                strv_consume(lines, xasprintf("%s %s missing", what, path));
                return;
        }
        strv_consume(lines, xasprintf("%s %s %llu:%llu %lld %lld.%09ld %lld.%09ld", what, path,
                                      (unsigned long long) st.st_dev, (unsigned long long) st.st_ino,
                                      (long long) st.st_size, (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                                      (long long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec));
}

static char *replace_all(char *s, const char *what, const char *with) {
        size_t l = strlen(what);

        for (char *q; l > 0 && (q = strstr(s, what)); ) {
                char *n = xasprintf("%.*s%s%s", (int) (q - s), s, with, q + l);
                free(s);
                s = n;
        }
        return s;
}

/* The TAP of this instance, if its network has one. */
static char *instance_tap(const VmInstance *i) {
        _cleanup_(network_config_freep) NetworkConfig *net = NULL;
        char *tap = NULL;

        if (network_config_from_flake(i->flake, &net) < 0 || !network_config_needs_tap(net) ||
            network_tap_name(i->name, &tap) < 0)
                return NULL;
        return tap;
}

/* The instance's own paths (runtime dir, TAP name) differ between the
 * instances of an app and mean nothing to the guest; a restore gets its own
 * (QEMU: on its command line; Firecracker: vsock_override and the overlay
 * drive). */
static char *key_arg(const VmInstance *i, const char *tap, const char *arg) {
        char *out = replace_all(xstrdup(arg), i->runtime_dir, "%R");

        return tap ? replace_all(out, tap, "%T") : out;
}

char *vm_snapshot_key(const VmInstance *i, char * const *vmm_argv) {
        _cleanup_strv_free_ char **lines = NULL;
        _cleanup_free_ char *tap = instance_tap(i);

        strv_extend(&lines, "flake-vm snapshot 1");
        strv_consume(&lines, xasprintf("user %u", (unsigned) geteuid()));
        key_file(&lines, "vmm", vmm_argv[0]);
        key_file(&lines, "kernel", i->flake->kernel_image_path);
        key_file(&lines, "initrd", i->flake->initrd_path);
        key_file(&lines, "rootfs", i->flake->rootfs_image_path);
        STRV_FOREACH(t, i->flake->include_tar)
                key_file(&lines, "include.tar", *t);
        STRV_FOREACH(p, i->flake->include_path)
                key_file(&lines, "include.path", *p);
        strv_consume(&lines, xasprintf("overlay_size %llu", (unsigned long long) i->flake->overlay_size));
        STRV_FOREACH(a, vmm_argv) {
                /* Firecracker's --id is the instance's name. */
                _cleanup_free_ char *k = a > vmm_argv && streq(a[-1], "--id") ? xstrdup("%I") : key_arg(i, tap, *a);
                strv_consume(&lines, xasprintf("arg %s", k));
        }
        if (i->vmm == VMM_FIRECRACKER) {
                /* Its command line names the config; what the VM is made
                 * of is in there. */
                _cleanup_free_ char *config = NULL, *k = NULL;

                if (read_full_file(i->config_path, &config, NULL) < 0)
                        return NULL;
                k = key_arg(i, tap, config);
                strv_consume(&lines, xasprintf("config %s", k));
        }
        return strv_join(lines, "\n");
}

/* Ours, and nobody else may write to it (or read it: it holds the guest's
 * memory). */
static bool is_private(const struct stat *st) {
        return st->st_uid == geteuid() && (st->st_mode & 0077) == 0;
}

int vm_snapshot_dir_prepare(const VmInstance *i, uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = mkdir_parents(i->snapshot_dir, 0755);
        if (r < 0)
                return log_warning_errno(r, "%s: cannot create the parents of %s, no snapshot: %m", i->name,
                                         i->snapshot_dir);
        if (lstat(i->snapshot_dir, &st) == 0 &&
            (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 07777) != 0700)) {
                /* Another VMM user's (vm.runtime.runas changed), or not
                 * ours to trust: its files would be refused one by one. */
                r = rm_rf(i->snapshot_dir);
                if (r < 0)
                        return log_warning_errno(r, "%s: cannot remove %s, which belongs to another user, no snapshot: %m",
                                                 i->name, i->snapshot_dir);
        }
        if (mkdir(i->snapshot_dir, 0700) < 0 && errno != EEXIST)
                return log_warning_errno(errno, "%s: cannot create %s, no snapshot: %m", i->name, i->snapshot_dir);
        fd = open(i->snapshot_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return log_warning_errno(errno, "%s: cannot open %s, no snapshot: %m", i->name, i->snapshot_dir);
        if (st.st_uid == uid && st.st_gid == gid)
                return 0;
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0700) < 0)
                return log_warning_errno(errno, "%s: cannot give %s to the VMM user, no snapshot: %m", i->name,
                                         i->snapshot_dir);
        return 0;
}

/* The snapshot dir, unless it is not ours and private (-EPERM). */
static int open_dir(const VmInstance *i) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open(i->snapshot_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!is_private(&st))
                return -EPERM;
        return TAKE_FD(fd);
}

int vm_snapshot_open(const VmInstance *i, int lock_operation, int *ret_dir_fd, int *ret_lock_fd) {
        _cleanup_close_ int fd = -EBADF, lock = -EBADF;

        fd = open_dir(i);
        if (fd < 0)
                return fd;
        lock = lock_file_at(fd, VM_SNAPSHOT_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW, lock_operation);
        if (lock < 0)
                return lock;
        *ret_dir_fd = TAKE_FD(fd);
        *ret_lock_fd = TAKE_FD(lock);
        return 0;
}

static int open_private(int dir_fd, const char *name, int flags) {
        _cleanup_close_ int fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || !is_private(&st))
                return -EPERM;
        return TAKE_FD(fd);
}

int vm_snapshot_find(int dir_fd, const char *key, int *ret_memory_fd) {
        _cleanup_close_ int kfd = -EBADF, mfd = -EBADF, ofd = -EBADF, sfd = -EBADF;
        _cleanup_free_ char *buf = xmalloc(KEY_MAX + 1);
        size_t n = 0;
        ssize_t k;

        kfd = open_private(dir_fd, VM_SNAPSHOT_KEY, O_RDONLY);
        if (kfd == -ENOENT)
                return 0;
        if (kfd < 0)
                return -EBADMSG;
        while (n < KEY_MAX && (k = read(kfd, buf + n, KEY_MAX - n)) > 0)
                n += (size_t) k;
        buf[n] = 0;
        if (!streq(buf, key))
                return 0;
        mfd = open_private(dir_fd, VM_SNAPSHOT_MEMORY, O_RDONLY);
        if (mfd < 0)
                return -EBADMSG;
        /* The overlay too, if any: copied per restore; Firecracker's VM
         * state, which it loads by name. */
        ofd = open_private(dir_fd, VM_SNAPSHOT_OVERLAY, O_RDONLY);
        if (ofd < 0 && ofd != -ENOENT)
                return -EBADMSG;
        sfd = open_private(dir_fd, VM_SNAPSHOT_STATE, O_RDONLY);
        if (sfd < 0 && sfd != -ENOENT)
                return -EBADMSG;
        *ret_memory_fd = TAKE_FD(mfd);
        return 1;
}

void vm_snapshot_discard(int dir_fd) {
        /* The key first: without it, the rest is never loaded. */
        const char *names[] = { VM_SNAPSHOT_KEY, VM_SNAPSHOT_MEMORY, VM_SNAPSHOT_STATE, VM_SNAPSHOT_OVERLAY };

        for (size_t k = 0; k < ELEMENTSOF(names); k++)
                (void) unlinkat(dir_fd, names[k], 0);
}

/* Copies [at, end) by copy_file_range(), or by read and write where the
 * kernel refuses that between two filesystems (EXDEV: the runtime dir is
 * a tmpfs, the snapshots live below /var/lib). */
static int copy_range(int in, int out, off_t at, off_t end) {
        char buf[64 * 1024];

        while (at < end) {
                off_t o = at, w = at;
                ssize_t k = copy_file_range(in, &o, out, &w, (size_t) (end - at), 0);

                if (k < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
                        k = pread(in, buf, (size_t) (end - at) < sizeof(buf) ? (size_t) (end - at) : sizeof(buf), at);
                        if (k > 0 && pwrite(out, buf, (size_t) k, at) != k)
                                return errno > 0 ? -errno : -EIO;
                }
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                at += k;
        }
        return 0;
}

/* A reflink where the filesystem has them; else the data ranges only,
 * so that a sparse overlay stays sparse. */
static int copy_sparse(int in, int out) {
        off_t end, data, hole;
        int r;

        if (ioctl(out, FICLONE, in) == 0)
                return 0;
        end = lseek(in, 0, SEEK_END);
        if (end < 0)
                return -errno;
        for (off_t at = 0; at < end; at = hole) {
                data = lseek(in, at, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        break;
                if (data < 0)
                        return -errno;
                hole = lseek(in, data, SEEK_HOLE);
                if (hole < 0)
                        return -errno;
                r = copy_range(in, out, data, hole);
                if (r < 0)
                        return r;
        }
        return ftruncate(out, end) < 0 ? -errno : 0;
}

static int copy_to(int in_fd, int dir_fd, const char *name) {
        _cleanup_free_ char *tmp = xasprintf("%s.new", name);
        _cleanup_close_ int out = -EBADF;
        int r;

        (void) unlinkat(dir_fd, tmp, 0);
        out = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        r = copy_sparse(in_fd, out);
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

int vm_snapshot_overlay_restore(int dir_fd, const char *path) {
        _cleanup_free_ char *cold = xasprintf("%s.cold", path), *dir = xstrdup(path), *name = path_basename(path);
        _cleanup_close_ int in = -EBADF, pdir = -EBADF;
        char *slash = strrchr(dir, '/');

        in = open_private(dir_fd, VM_SNAPSHOT_OVERLAY, O_RDONLY);
        if (in < 0)
                return in;
        if (slash)
                *slash = 0;
        pdir = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pdir < 0)
                return -errno;
        if (rename(path, cold) < 0)
                return -errno;
        return copy_to(in, pdir, name);
}

void vm_snapshot_overlay_done(const char *path, bool restored) {
        _cleanup_free_ char *cold = xasprintf("%s.cold", path);

        if (restored)
                (void) unlink(cold);
        else
                (void) rename(cold, path);
}

static int migrate_wait(Qmp *q, char **ret_error) {
        uint64_t deadline = now_ms() + SAVE_TIMEOUT_MS;

        for (;;) {
                json_object *st = NULL, *v = NULL;
                const char *s;
                int r;

                r = qmp_execute(q, "query-migrate", NULL, -EBADF, &st, ret_error);
                if (r < 0)
                        return r;
                s = json_object_object_get_ex(st, "status", &v) ? json_object_get_string(v) : "";
                r = streq(s, "completed") ? 0 : streq(s, "failed") || streq(s, "cancelled") ? -EIO : 1;
                if (r == -EIO) {
                        json_object *e = NULL;
                        *ret_error = xstrdup(json_object_object_get_ex(st, "error-desc", &e)
                                                     ? json_object_get_string(e) : "migration failed");
                }
                json_object_put(st);
                if (r <= 0)
                        return r;
                if (now_ms() > deadline) {
                        *ret_error = xstrdup("timed out");
                        return -ETIMEDOUT;
                }
                usleep(10 * 1000);
        }
}

/* The VM is stopped: its memory to the file, its disks flushed (a
 * completed migration flushes and releases them), the overlay as it is. */

/* The overlay as it is at the snapshot: each restore copies it again. */
static int save_overlay(const VmInstance *i, int dir_fd) {
        _cleanup_close_ int ov = -EBADF;

        if (!i->overlay_path)
                return 0;
        ov = open(i->overlay_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (ov < 0)
                return -errno;
        return copy_to(ov, dir_fd, VM_SNAPSHOT_OVERLAY);
}
static int save_stopped(const VmInstance *i, Qmp *q, int dir_fd, char **ret_error) {
        _cleanup_close_ int mem = -EBADF;
        json_object *a;
        int r;

        (void) unlinkat(dir_fd, VM_SNAPSHOT_MEMORY ".new", 0);
        mem = openat(dir_fd, VM_SNAPSHOT_MEMORY ".new", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (mem < 0)
                return -errno;
        /* The guest is stopped: no reason to throttle (default 128 MiB/s). */
        a = json_object_new_object();
        json_object_object_add(a, "max-bandwidth", json_object_new_int64(INT64_MAX / 2));
        r = qmp_execute(q, "migrate-set-parameters", a, -EBADF, NULL, ret_error);
        json_object_put(a);
        if (r < 0)
                return r;
        a = json_object_new_object();
        json_object_object_add(a, "fdname", json_object_new_string("snapshot"));
        r = qmp_execute(q, "getfd", a, mem, NULL, ret_error);
        json_object_put(a);
        if (r < 0)
                return r;
        a = json_object_new_object();
        json_object_object_add(a, "uri", json_object_new_string("fd:snapshot"));
        r = qmp_execute(q, "migrate", a, -EBADF, NULL, ret_error);
        json_object_put(a);
        if (r < 0)
                return r;
        r = migrate_wait(q, ret_error);
        if (r < 0)
                return r;
        if (fdatasync(mem) < 0 || renameat(dir_fd, VM_SNAPSHOT_MEMORY ".new", dir_fd, VM_SNAPSHOT_MEMORY) < 0)
                return -errno;
        return save_overlay(i, dir_fd);
}

/* Writes name in the snapshot dir, private, under a temporary name first:
 * readers see the old content or all of the new one. */
static int write_private(int dir_fd, const char *name, const char *data) {
        _cleanup_free_ char *tmp = xasprintf("%s.new", name);
        _cleanup_close_ int fd = -EBADF;
        size_t l = strlen(data);

        (void) unlinkat(dir_fd, tmp, 0);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, data, l) != (ssize_t) l || fsync(fd) < 0)
                return errno > 0 ? -errno : -EIO;
        if (renameat(dir_fd, tmp, dir_fd, name) < 0)
                return -errno;
        return 0;
}

static int boot_id(char ret[static SD_ID128_STRING_MAX]) {
        sd_id128_t id;
        int r = sd_id128_get_boot(&id);

        if (r < 0)
                return r;
        sd_id128_to_string(id, ret);
        return 0;
}

void vm_snapshot_note_kvm(const VmInstance *i, bool works) {
        _cleanup_close_ int dir = open_dir(i);
        char id[SD_ID128_STRING_MAX];

        if (dir < 0)
                return;
        if (works)
                (void) unlinkat(dir, VM_SNAPSHOT_KVM_FAILED, 0);
        else if (boot_id(id) >= 0)
                (void) write_private(dir, VM_SNAPSHOT_KVM_FAILED, id);
}

bool vm_snapshot_kvm_failed(const VmInstance *i) {
        _cleanup_close_ int dir = open_dir(i), fd = -EBADF;
        char id[SD_ID128_STRING_MAX], buf[SD_ID128_STRING_MAX + 1];
        ssize_t n;

        if (dir < 0 || boot_id(id) < 0)
                return false;
        fd = open_private(dir, VM_SNAPSHOT_KVM_FAILED, O_RDONLY);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return false;
        buf[n] = 0;
        return streq(buf, id);
}

int vm_snapshot_save_qemu(const VmInstance *i, int dir_fd, const char *key) {
        _cleanup_free_ char *error = NULL;
        uint64_t start = now_ms();
        Qmp q;
        int r, k;

        vm_snapshot_discard(dir_fd);
        r = qmp_open(&q, i->control_socket, 5000);
        if (r < 0)
                return log_warning_errno(r, "%s: cannot reach QEMU's monitor %s, no snapshot: %m", i->name,
                                         i->control_socket);
        r = qmp_execute(&q, "stop", NULL, -EBADF, NULL, &error);
        if (r >= 0)
                r = save_stopped(i, &q, dir_fd, &error);
        if (r >= 0)
                r = write_private(dir_fd, VM_SNAPSHOT_KEY, key);
        /* Whatever happened, the VM goes on: this call's session runs in it. */
        k = qmp_execute(&q, "cont", NULL, -EBADF, NULL, NULL);
        qmp_close(&q);
        if (r < 0) {
                vm_snapshot_discard(dir_fd);
                (void) unlinkat(dir_fd, VM_SNAPSHOT_MEMORY ".new", 0);
                (void) unlinkat(dir_fd, VM_SNAPSHOT_OVERLAY ".new", 0);
                if (error)
                        return log_warning_errno(r, "%s: saving a snapshot failed (qemu: %s)", i->name, error);
                return log_warning_errno(r, "%s: saving a snapshot failed: %m", i->name);
        }
        if (k < 0)
                return log_warning_errno(k, "%s: QEMU does not go on after the snapshot: %m", i->name);
        log_info("%s: saved a snapshot in %s (%llu ms)", i->name, i->snapshot_dir,
                 (unsigned long long) (now_ms() - start));
        return 0;
}

static json_object *run_state(const char *state) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "state", json_object_new_string(state));
        return o;
}

/* One API call; the body is put. */
static int api(const VmInstance *i, const char *method, const char *path, json_object *body, char **ret_error) {
        int r = firecracker_api(i->control_socket, method, path, body, 5000, ret_error);

        json_object_put(body);
        return r;
}

/* Paused: Firecracker writes its state and memory files (and has flushed
 * the disks), we the overlay; a fresh VM gets a full snapshot anyway. */
static int save_paused(const VmInstance *i, int dir_fd, char **ret_error) {
        _cleanup_free_ char *state = path_join(i->snapshot_dir, VM_SNAPSHOT_STATE ".new"),
                            *mem = path_join(i->snapshot_dir, VM_SNAPSHOT_MEMORY ".new");
        const char *names[] = { VM_SNAPSHOT_STATE, VM_SNAPSHOT_MEMORY };
        json_object *a = json_object_new_object();
        int r;

        json_object_object_add(a, "snapshot_type", json_object_new_string("Full"));
        json_object_object_add(a, "snapshot_path", json_object_new_string(state));
        json_object_object_add(a, "mem_file_path", json_object_new_string(mem));
        r = api(i, "PUT", "/snapshot/create", a, ret_error);
        if (r < 0)
                return r;
        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                _cleanup_free_ char *tmp = xasprintf("%s.new", names[k]);
                _cleanup_close_ int fd = openat(dir_fd, tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

                /* Private whatever the VMM's umask was. */
                if (fd < 0 || fchmod(fd, 0600) < 0 || fsync(fd) < 0 || renameat(dir_fd, tmp, dir_fd, names[k]) < 0)
                        return -errno;
        }
        return save_overlay(i, dir_fd);
}

int vm_snapshot_save_firecracker(const VmInstance *i, int dir_fd, const char *key) {
        _cleanup_free_ char *error = NULL;
        int r, k;

        vm_snapshot_discard(dir_fd);
        r = api(i, "PATCH", "/vm", run_state("Paused"), &error);
        if (r >= 0)
                r = save_paused(i, dir_fd, &error);
        if (r >= 0)
                r = write_private(dir_fd, VM_SNAPSHOT_KEY, key);
        k = api(i, "PATCH", "/vm", run_state("Resumed"), NULL);
        if (r < 0) {
                vm_snapshot_discard(dir_fd);
                if (error)
                        return log_warning_errno(r, "%s: saving a snapshot failed (firecracker: %s)", i->name, error);
                return log_warning_errno(r, "%s: saving a snapshot failed: %m", i->name);
        }
        if (k < 0)
                return log_warning_errno(k, "%s: Firecracker does not go on after the snapshot: %m", i->name);
        log_info("%s: saved a snapshot in %s", i->name, i->snapshot_dir);
        return 0;
}

int vm_snapshot_load_firecracker(const VmInstance *i, char **ret_error) {
        _cleanup_free_ char *state = path_join(i->snapshot_dir, VM_SNAPSHOT_STATE),
                            *mem = path_join(i->snapshot_dir, VM_SNAPSHOT_MEMORY), *tap = instance_tap(i);
        json_object *a = json_object_new_object(), *b = json_object_new_object(), *v = json_object_new_object();
        int r;

        json_object_object_add(b, "backend_type", json_object_new_string("File"));
        json_object_object_add(b, "backend_path", json_object_new_string(mem));
        json_object_object_add(v, "uds_path", json_object_new_string(i->vsock_socket));
        json_object_object_add(a, "snapshot_path", json_object_new_string(state));
        json_object_object_add(a, "mem_backend", b);
        /* This instance's vsock socket and overlay, not the saver's. */
        json_object_object_add(a, "vsock_override", v);
        json_object_object_add(a, "resume_vm", json_object_new_boolean(false));
        if (tap) {
                json_object *o = json_object_new_object(), *l = json_object_new_array();

                json_object_object_add(o, "iface_id", json_object_new_string(VM_FIRECRACKER_IFACE));
                json_object_object_add(o, "host_dev_name", json_object_new_string(tap));
                json_object_array_add(l, o);
                json_object_object_add(a, "network_overrides", l);
        }
        r = api(i, "PUT", "/snapshot/load", a, ret_error);
        if (r < 0)
                return r;
        if (i->overlay_path) {
                a = json_object_new_object();
                json_object_object_add(a, "drive_id", json_object_new_string(VM_FIRECRACKER_OVERLAY_DRIVE));
                json_object_object_add(a, "path_on_host", json_object_new_string(i->overlay_path));
                r = api(i, "PATCH", "/drives/" VM_FIRECRACKER_OVERLAY_DRIVE, a, ret_error);
                if (r < 0)
                        return r;
        }
        return api(i, "PATCH", "/vm", run_state("Resumed"), ret_error);
}
