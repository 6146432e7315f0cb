/* SPDX-License-Identifier: MIT */
/* flake-ctl firecracker snapshot [--remove] NAME: makes the snapshot that
 * one-shot calls of a VM flake restore (flake-vm@.service(8), "Snapshots"),
 * through the runner, as the first call would; or removes it. */
#include <getopt.h>
#include <sys/stat.h>

#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "paths.h"
#include "spawn.h"
#include "strv.h"
#include "vm-instance.h"

static int remove_snapshot(Ctl *ctl, const char *app) {
        _cleanup_free_ char *dir = vm_snapshot_dir(ctl->user, app);
        int r;

        if (access(dir, F_OK) < 0 && errno == ENOENT)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No snapshot of '%s' (%s)", app, dir);
        r = rm_rf(dir);
        if (r < 0)
                return log_error_errno(r, "Failed to remove %s: %m", dir);
        log_info("Removed snapshot %s", dir);
        return 0;
}

/* The runner boots the VM, saves it and stops it; its console is not
 * wanted here, its messages (on stderr) are. */
static int make_snapshot(const char *app) {
        _cleanup_free_ char *runner = vm_runner_path();
        char *argv[] = { runner, (char *) "snapshot", (char *) app, NULL };
        int r;

        r = spawn_wait(argv, NULL, SPAWN_NULL_STDIN | SPAWN_NULL_STDOUT, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot run %s: %m", runner);
        if (r > 0)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Making the snapshot of '%s' failed (flake-vm status %d)",
                                       app, r);
        return 0;
}

int verb_firecracker_snapshot(Ctl *ctl, int argc, char *argv[]) {
        static const struct option options[] = {
                { "help",   no_argument, NULL, 'h' },
                { "remove", no_argument, NULL, 'r' },
                {}
        };
        bool remove = false;
        const char *app;
        int c, r;

        optind = 0;
        while ((c = ctl_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: flake-ctl firecracker [--user] snapshot [--remove] NAME\n\n"
                               "Make the snapshot that one-shot calls of the VM flake NAME restore instead of\n"
                               "booting, or remove it (--remove).\n");
                        return 0;
                case 'r':
                        remove = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind != argc - 1)
                return ctl_usage_error("snapshot: expected one flake name");
        app = argv[optind];
        if (!flake_app_name_is_valid(app))
                return ctl_usage_error("snapshot: '%s' is not a valid flake name", app);
        r = ctl_load_config(ctl);
        if (r < 0)
                return ctl_failure(r);
        r = remove ? remove_snapshot(ctl, app) : make_snapshot(app);
        return ctl_failure(r);
}
