/* SPDX-License-Identifier: MIT */
/* flake-ctl podman show|stop: the container instances the pilots keep
 * track of in <podman_ids_dir>/<uid>/<instance>.cid. */
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "podman.h"
#include "strv.h"
#include "table.h"

static const TableColumn show_columns[] = {
        { "NAME",   "name",   0 },
        { "USER",   "user",   0 },
        { "ID",     "id",     12 },
        { "STATUS", "status", 0 },
        { "IMAGE",  "image",  0 },
        { "CONFIG", "config", 0 },
};

static int read_cid(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        char buf[129];
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        buf[strcspn(buf, " \t\r\n")] = 0;
        *ret = xstrdup(buf);
        return 0;
}

/* "app", "app@id" or a one-shot "app@id@<random>": the app is what comes
 * before the first '@'. */
static char *instance_app(const char *instance) {
        return xstrndup(instance, strcspn(instance, "@"));
}

/* containers: "<full id> <state>" lines of podman ps -a. Returns the state
 * of cid, or NULL if podman does not know it. */
static const char *id_state(char * const *containers, const char *cid) {
        STRV_FOREACH(c, containers)
                if (!isempty(cid) && startswith(*c, cid) && strchr(*c, ' '))
                        return strchr(*c, ' ') + 1;
        return NULL;
}

/* {{.State}} of podman ps: "running" in newer podman, "Up 2 minutes" in 4.x. */
static bool container_running(const char *state) {
        return state && (startswith(state, "Up") || streq(state, "running"));
}

/* A cid file newer than the podman ps may belong to a container created
 * after it: never collected. */
static bool older_than(const char *path, time_t t) {
        struct stat st;

        return lstat(path, &st) >= 0 && S_ISREG(st.st_mode) && st.st_mtime < t;
}

static int show_uid_dir(Ctl *ctl, Table *t, const char *dir, const char *uid_name,
                        char * const *containers, bool status_known, time_t ps_time) {
        _cleanup_strv_free_ char **files = NULL;
        struct passwd *pw = getpwuid((uid_t) strtoul(uid_name, NULL, 10));
        int r;

        r = dir_list(dir, ".cid", &files);
        if (r < 0)
                return 0;    /* other users' private dirs */
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *path = path_join(dir, *f), *cid = NULL, *instance = NULL;
                _cleanup_free_ char *app = NULL, *yaml = NULL;
                _cleanup_(flake_freep) Flake *flake = NULL;
                const char *status;

                if (read_cid(path, &cid) < 0) {
                        log_error("Ignoring %s: not a regular cid file", path);
                        continue;
                }
                instance = xstrndup(*f, strlen(*f) - strlen(".cid"));
                app = instance_app(instance);
                FlakeDiagnostics diag = {};
                if (flake_load(ctl->config.flakes_dir, app, &flake, &diag) >= 0)
                        yaml = xstrdup(flake->path);
                flake_diagnostics_done(&diag);
                if (status_known && !id_state(containers, cid) && older_than(path, ps_time)) {
                        /* The garbage collection of cid files, off the
                         * pilots' hot path: the container is gone. */
                        if (unlink(path) >= 0)
                                log_info("Removed %s: container %.12s no longer exists", path, cid);
                        continue;
                }
                status = !flake || !status_known ? "unknown"
                         : container_running(id_state(containers, cid)) ? "running" : "stopped";
                table_add_row(t, (const char *[]) {
                        instance, pw ? pw->pw_name : uid_name, cid, status,
                        flake ? flake->image : NULL, yaml });
        }
        return 0;
}

int verb_podman_show(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(podman_context_done) PodmanContext p = {};
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_strv_free_ char **uids = NULL, **containers = NULL;
        _cleanup_free_ char *ps = NULL, *title = NULL;
        OutputFormat format;
        bool status_known = false;
        time_t ps_time;
        int r;

        r = ctl_parse_listing(ctl, argc, argv,
                              "Usage: flake-ctl podman [--user] show [--format table|json|csv]\n\n"
                              "List the container instances of flakes with their status.\n", false, &format);
        if (r != 0)
                return r < 0 ? r : 0;

        r = ctl_load_config(ctl);
        if (r < 0)
                return ctl_failure(r);

        /* One podman call for all statuses. */
        ps_time = time(NULL) - 1;
        if (ctl_podman_context(ctl, &p) >= 0 &&
            podman_waitl(&p, SPAWN_NULL_STDERR, &ps, "ps", "--all", "--no-trunc", "--format",
                         "{{.ID}} {{.State}}", NULL) == 0) {
                char *save = NULL;
                for (char *l = strtok_r(ps, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        strv_extend(&containers, l);
                status_known = true;
        }

        t = table_new(show_columns, ELEMENTSOF(show_columns));
        r = dir_list(ctl->config.podman_ids_dir, NULL, &uids);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Cannot read %s: %m", ctl->config.podman_ids_dir);
        STRV_FOREACH(u, uids) {
                _cleanup_free_ char *dir = NULL;

                if (strspn(*u, "0123456789") != strlen(*u))
                        continue;
                dir = path_join(ctl->config.podman_ids_dir, *u);
                (void) show_uid_dir(ctl, t, dir, *u, containers, status_known, ps_time);
        }
        title = xasprintf("Flake podman instances in %s", ctl->config.podman_ids_dir);
        return table_print(t, format, title, "No instance(s) found", stdout);
}

int verb_podman_stop(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(podman_context_done) PodmanContext p = {};
        _cleanup_free_ char *dir = NULL, *cid_file = NULL, *lock_file = NULL, *cid = NULL;
        _cleanup_close_ int lock = -EBADF;
        const char *instance, *at;
        int r;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: flake-ctl podman stop NAME[@ID]\n\n"
                       "Stop and remove the container of a resume or attach flake instance.\n");
                return 0;
        }
        if (argc != 2)
                return ctl_usage_error("stop needs exactly one instance: NAME or NAME@ID");
        instance = argv[1];
        at = strchr(instance, '@');
        {
                _cleanup_free_ char *app = xstrndup(instance, at ? (size_t) (at - instance) : strlen(instance));
                if (!flake_app_name_is_valid(app) || (at && !flake_instance_name_is_valid(at)))
                        return ctl_usage_error("Invalid instance name '%s'", instance);
        }

        r = ctl_load_config(ctl);
        if (r < 0)
                return ctl_failure(r);
        dir = xasprintf("%s/%u", ctl->config.podman_ids_dir, (unsigned) getuid());
        cid_file = xasprintf("%s/%s.cid", dir, instance);
        lock_file = xasprintf("%s/%s.lock", dir, instance);

        /* The pilot's instance lock: no launch can create or reuse the
         * container while it is being removed. */
        lock = open(lock_file, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (lock >= 0)
                (void) flock(lock, LOCK_EX);
        r = read_cid(cid_file, &cid);
        if (r == -ENOENT)
                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "No instance %s (no %s)", instance, cid_file);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", cid_file);

        r = podman_context_init(&p, ctl->config.podman_storage_conf, geteuid() == 0 ? "root" : NULL);
        if (r == -ENOENT)
                return log_error_errno(r, "podman is not installed (not found in $PATH)");
        r = podman_waitl(&p, SPAWN_NULL_STDOUT, NULL, "rm", "--force", "--ignore", cid, NULL);
        if (r != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "podman rm %s failed with status %d", cid, r);
        (void) unlink(cid_file);
        log_info("Stopped %s (container %.12s)", instance, cid);
        return 0;
}
