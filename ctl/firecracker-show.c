/* SPDX-License-Identifier: MIT */
/* flake-ctl firecracker show: the VM instances (the system's, or with --user
 * the caller's own), from the runtime directory the VM runner keeps per
 * instance (vm_state(), vm-instance.h). Then the snapshots one-shot calls
 * restore (REGISTRY/snapshots/APP, helpers/vm/vm-snapshot.h), with status
 * "snapshot" and the disk space they take. */
#include <getopt.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "size.h"
#include "strv.h"
#include "table.h"
#include "vm-instance.h"
#include "vm-volumes.h"

static const TableColumn show_columns[] = {
        { "NAME", "name", 0 },
        { "USER", "user", 0 },
        { "ID", "id", 12 },
        { "STATUS", "status", 0 },
        { "IMAGE", "image", 0 },
        { "CONFIG", "config", 0 },
        { "SIZE", "size", 0 },
        { "VOLUMES", "volumes", 0 },
};

/* The NFS volumes instance mounts, as GUEST_PATH=SERVER:HOST_PATH words
 * (flake-ctl-firecracker-volume(8)); NULL for none. */
static char *volumes_of(const Flake *f, const char *instance) {
        _cleanup_strv_free_ char **args = NULL, **volumes = NULL, **words = NULL;
        _cleanup_free_ char *error = NULL;

        /* A broken one is shown as none; verify says what is wrong. */
        if (!f || vm_instance_boot_args(f, instance, &args, &error) < 0)
                return NULL;
        volumes = vm_volumes(args);
        STRV_FOREACH(v, volumes) {
                const char *last = strrchr(*v, ':');
                strv_consume(&words, xasprintf("%s=%.*s", last + 1, (int) (last - *v), *v));
        }
        return words ? strv_join(words, " ") : NULL;
}

/* What the snapshot's files take on disk (sparse files count what they
 * hold); -ENOENT when it has none. */
static int snapshot_size(const char *dir, uint64_t *ret) {
        _cleanup_strv_free_ char **files = NULL;
        uint64_t total = 0;
        bool complete = false;
        int r;

        r = dir_list(dir, NULL, &files);
        if (r < 0)
                return r;
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *p = path_join(dir, *f);
                struct stat st;

                if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                complete = complete || streq(*f, VM_SNAPSHOT_KEY);
                total += (uint64_t) st.st_blocks * 512;
        }
        if (!complete)
                return -ENOENT;
        *ret = total;
        return 0;
}

static void add_snapshots(Ctl *ctl, Table *t) {
        _cleanup_free_ char *registry = flake_vm_registry_dir(ctl->user), *base = path_join(registry, "snapshots");
        _cleanup_strv_free_ char **apps = NULL;

        /* (vm_snapshot_dir(user, APP) is base/APP.) */

        if (dir_list(base, NULL, &apps) < 0)
                return;
        STRV_FOREACH(a, apps) {
                _cleanup_free_ char *dir = path_join(base, *a), *user = NULL, *config = NULL, *volumes = NULL;
                _cleanup_(flake_freep) Flake *f = NULL;
                char size[32];
                uint64_t bytes;
                struct stat st;

                if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || snapshot_size(dir, &bytes) < 0)
                        continue;
                struct passwd *pw = getpwuid(st.st_uid);
                user = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned) st.st_uid);
                if (flake_load(ctl->config.flakes_dir, *a, &f, NULL) >= 0)
                        config = xstrdup(f->path);
                volumes = volumes_of(f, *a);
                const char *row[] = {
                        *a, user, NULL, "snapshot", f ? f->image : NULL, config,
                        format_size(size, sizeof(size), bytes), volumes,
                };
                table_add_row(t, row);
        }
}

int verb_firecracker_show(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_strv_free_ char **locks = NULL;
        _cleanup_free_ char *base = NULL, *title = NULL;
        OutputFormat format;
        int r;

        r = ctl_parse_listing(ctl, argc, argv,
                              "Usage: flake-ctl firecracker show [--user] [--format table|json|csv]\n\n"
                              "Show the VM flake instances and whether their VM runs, and the snapshots\n"
                              "one-shot calls restore (with the space they take), and the NFS volumes\n"
                              "each mounts (GUEST_PATH=SERVER:HOST_PATH).\n", true, &format);
        if (r != 0)
                return r < 0 ? r : 0;

        r = ctl_load_config(ctl);
        if (r < 0)
                return ctl_failure(r);

        /* The instances of this manager's flakes: the system's, or with
         * --user the caller's own (none yet: an empty list). */
        r = vm_runtime_base(ctl->user, ctl->config.firecracker_ids_dir, false, &base);
        if (r < 0 && r != -ENOENT)
                return ctl_failure(r);
        if (base) {
                r = dir_list(base, VM_LOCK_SUFFIX, &locks);
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r, "Failed to read %s: %m", base);
        }

        t = table_new(show_columns, ELEMENTSOF(show_columns));
        STRV_FOREACH(l, locks) {
                _cleanup_free_ char *name = xstrndup(*l, strlen(*l) - strlen(VM_LOCK_SUFFIX));
                _cleanup_free_ char *lock = path_join(base, *l), *dir = path_join(base, name);
                _cleanup_free_ char *pid = NULL, *user = NULL;
                _cleanup_free_ char *app = xstrndup(name, strcspn(name, "@")), *config = NULL, *volumes = NULL;
                _cleanup_(flake_freep) Flake *f = NULL;
                struct stat st;

                if (lstat(lock, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;   /* symlinks are not ours */
                VmState state = vm_state(dir, &pid);
                struct passwd *pw = getpwuid(st.st_uid);
                user = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned) st.st_uid);
                if (flake_load(ctl->config.flakes_dir, app, &f, NULL) >= 0)
                        config = xstrdup(f->path);
                volumes = volumes_of(f, name);

                const char *row[] = {
                        name, user, pid, vm_state_to_string(state),
                        f ? f->image : NULL, config, NULL, volumes,
                };
                table_add_row(t, row);
        }
        add_snapshots(ctl, t);

        title = base ? xasprintf("Flake firecracker instances in %s", base) : xstrdup("Flake firecracker instances");
        return table_print(t, format, title, "No instance(s) found", stdout);
}
