/* SPDX-License-Identifier: MIT */
/* flake-ctl firecracker show: the running VM instances, from the runtime
 * directory the VM runner keeps per instance (lib/vm/vm-instance.h):
 * RUNTIME/vm/INSTANCE.lock is held while a runner runs, vmm.pid names its
 * VMM, "ready" marks a VM whose agent answered. */
#include <getopt.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "strv.h"
#include "table.h"

static const TableColumn show_columns[] = {
        { "NAME", "name", 0 },
        { "USER", "user", 0 },
        { "ID", "id", 12 },
        { "STATUS", "status", 0 },
        { "IMAGE", "image", 0 },
        { "CONFIG", "config", 0 },
};

static const char *instance_status(const char *dir, const char *lock, const char *pid) {
        _cleanup_free_ char *ready = path_join(dir, "ready"), *proc = NULL;

        if (!lock_is_held(lock))
                return "stopped";
        if (!pid)
                return "starting";
        proc = xasprintf("/proc/%s", pid);
        if (access(proc, F_OK) < 0)
                return "stopped";
        return access(ready, F_OK) == 0 ? "running" : "starting";
}

int verb_firecracker_show(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_strv_free_ char **locks = NULL;
        _cleanup_free_ char *base = NULL, *title = NULL;
        OutputFormat format;
        int r;

        r = ctl_parse_listing(ctl, argc, argv,
                              "Usage: flake-ctl firecracker show [--user] [--format table|json|csv]\n\n"
                              "Show the VM flake instances and whether their VM runs.\n", true, &format);
        if (r != 0)
                return r < 0 ? r : 0;

        r = ctl_load_config(ctl);
        if (r < 0)
                return ctl_failure(r);

        base = xasprintf("%s/vm", flake_path(FLAKE_PATH_RUNTIME_DIR));
        r = dir_list(base, ".lock", &locks);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to read %s: %m", base);

        t = table_new(show_columns, ELEMENTSOF(show_columns));
        STRV_FOREACH(l, locks) {
                _cleanup_free_ char *name = xstrndup(*l, strlen(*l) - strlen(".lock"));
                _cleanup_free_ char *lock = path_join(base, *l), *dir = path_join(base, name);
                _cleanup_free_ char *pidfile = path_join(dir, "vmm.pid"), *pid = NULL, *user = NULL;
                _cleanup_free_ char *app = xstrndup(name, strcspn(name, "@")), *config = NULL;
                _cleanup_(flake_freep) Flake *f = NULL;
                struct stat st;

                if (lstat(lock, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;   /* symlinks are not ours */
                if (read_full_file(pidfile, &pid, NULL) >= 0)
                        pid[strcspn(pid, "\n")] = 0;
                struct passwd *pw = getpwuid(st.st_uid);
                user = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned) st.st_uid);
                if (flake_load(ctl->config.flakes_dir, app, &f, NULL) >= 0)
                        config = xstrdup(f->path);

                const char *row[] = {
                        name, user, pid && *pid ? pid : NULL, instance_status(dir, lock, pid),
                        f ? f->image : NULL, config,
                };
                table_add_row(t, row);
        }

        title = xasprintf("Flake firecracker instances in %s", base);
        return table_print(t, format, title, "No instance(s) found", stdout);
}
