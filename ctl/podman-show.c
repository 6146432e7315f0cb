/* SPDX-License-Identifier: MIT */
/* flake-ctl podman show|stop: the container instances the pilots keep
 * track of in <instance>.cid files of each user's instance state dir
 * (flake_instance_state_dir()). Everything in those dirs is opened relative
 * to a checked dir fd, never through a symlink; their content is shown
 * escaped and passed to podman only when it is a container ID. */
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
#include "paths.h"
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
static bool older_than(int dir_fd, const char *name, time_t t) {
        struct stat st;

        return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode) && st.st_mtime < t;
}

/* The *.cid names in the directory dir_fd, sorted. */
static int list_cid_files(int dir_fd, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        DIR *d;
        int fd;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.' && endswith(de->d_name, ".cid"))
                        strv_extend(&l, de->d_name);
        closedir(d);
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

static int show_uid_dir(Ctl *ctl, Table *t, const char *dir, uid_t uid,
                        char * const *containers, bool status_known, time_t ps_time) {
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *uid_name = xasprintf("%u", (unsigned) uid);
        struct passwd *pw = getpwuid(uid);
        int r;

        dir_fd = flake_open_private_dir(dir, uid, false, 0);
        if (dir_fd < 0)
                return dir_fd;
        r = list_cid_files(dir_fd, &files);
        if (r < 0)
                return 0;    /* other users' private dirs */
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *path = path_join(dir, *f), *cid = NULL, *instance = NULL;
                _cleanup_free_ char *app = NULL, *yaml = NULL;
                _cleanup_(flake_freep) Flake *flake = NULL;
                const char *status;

                r = podman_read_cid_file(dir_fd, *f, &cid);
                if (r == -ENOENT)
                        continue;    /* being created */
                if (r < 0) {
                        /* (log escapes what it shows) */
                        log_error("Ignoring %s: %s", path,
                                  r == -EBADMSG ? "not a container ID" : "not a regular cid file");
                        continue;
                }
                instance = xstrndup(*f, strlen(*f) - strlen(".cid"));
                app = instance_app(instance);
                FlakeDiagnostics diag = {};
                if (flake_app_name_is_valid(app) && flake_load(ctl->config.flakes_dir, app, &flake, &diag) >= 0)
                        yaml = xstrdup(flake->path);
                flake_diagnostics_done(&diag);
                if (status_known && !id_state(containers, cid) && older_than(dir_fd, *f, ps_time)) {
                        /* The garbage collection of cid files, off the
                         * pilots' hot path: the container is gone. */
                        if (unlinkat(dir_fd, *f, 0) >= 0) {
                                log_info("Removed %s: container %.12s no longer exists", path, cid);
                        }
                        continue;
                }
                status = !flake || !status_known ? "unknown"
                         : container_running(id_state(containers, cid)) ? "running" : "stopped";
                /* Names come from other users' files: table and CSV show
                 * them escaped (table.c), JSON exact. */
                table_add_row(t, (const char * const []) { instance, pw ? pw->pw_name : uid_name, cid, status,
                                                          flake ? flake->image : NULL, yaml });
        }
        return 0;
}

int verb_podman_show(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(podman_context_done) PodmanContext p = {};
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_strv_free_ char **others = NULL, **containers = NULL;
        _cleanup_free_ char *ps = NULL, *title = NULL, *own = NULL;
        _cleanup_close_ int own_fd = -EBADF;
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
        /* Our own instances, then (root only, like the original, whose
         * other users' dirs were private) everybody else's. */
        own_fd = flake_instance_state_dir(ctl->config.podman_ids_dir, false, &own);
        if (own_fd < 0 && own_fd != -ENOENT)
                return ctl_failure(own_fd);
        if (own_fd >= 0)
                (void) show_uid_dir(ctl, t, own, getuid(), containers, status_known, ps_time);
        if (getuid() == 0)
                others = flake_instance_state_dirs_all(ctl->config.podman_ids_dir);
        STRV_FOREACH(o, others) {
                const char *dir = strchr(*o, ' ') + 1;
                uid_t uid = (uid_t) strtoul(*o, NULL, 10);

                if (uid != getuid() && !streq_ptr(dir, own))
                        (void) show_uid_dir(ctl, t, dir, uid, containers, status_known, ps_time);
        }
        title = xasprintf("Flake podman instances in %s", own ?: ctl->config.podman_ids_dir);
        return table_print(t, format, title, "No instance(s) found", stdout);
}

int verb_podman_stop(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(podman_context_done) PodmanContext p = {};
        _cleanup_free_ char *dir = NULL, *cid_file = NULL, *cid_name = NULL, *lock_name = NULL, *cid = NULL;
        _cleanup_close_ int lock = -EBADF, dir_fd = -EBADF;
        const char *instance, *at;
        int r;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: flake-ctl podman stop NAME[@ID]\n\n"
                       "Stop and remove the container of a resume or attach flake instance.\n");
                return 0;
        }
        if (argc == 2 && ctl_arg_is_version(argv[1]))
                return ctl_print_version();
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
        dir_fd = flake_instance_state_dir(ctl->config.podman_ids_dir, false, &dir);
        if (dir_fd == -ENOENT)
                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "No instance %s (no instance state of yours)", instance);
        if (dir_fd < 0)
                return ctl_failure(dir_fd);
        cid_name = xasprintf("%s.cid", instance);
        lock_name = xasprintf("%s.lock", instance);
        cid_file = path_join(dir, cid_name);

        /* The pilot's instance lock: no launch can create or reuse the
         * container while it is being removed. */
        lock = lock_file_at(dir_fd, lock_name, O_RDWR | O_NOFOLLOW, LOCK_EX);   /* none: no launch yet */
        r = podman_read_cid_file(dir_fd, cid_name, &cid);
        if (r == -ENOENT)
                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "No instance %s (no %s)", instance, cid_file);
        if (r == -EBADMSG)
                return log_error_errno(r, "%s does not hold a container ID, refusing", cid_file);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", cid_file);

        r = podman_context_init(&p, ctl->config.podman_storage_conf, geteuid() == 0 ? "root" : NULL);
        if (r == -ENOENT)
                return log_error_errno(r, "podman is not installed (not found in $PATH)");
        r = podman_waitl(&p, SPAWN_NULL_STDOUT, NULL, "rm", "--force", "--ignore", "--", cid, NULL);
        if (r != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "podman rm %s failed with status %d", cid, r);
        (void) unlinkat(dir_fd, cid_name, 0);
        {
                _cleanup_free_ char *agent_dir = xasprintf("%s/%s" PODMAN_AGENT_DIR_SUFFIX, dir, instance);
                (void) rm_rf(agent_dir);
        }
        log_info("Stopped %s (container %.12s)", instance, cid);
        return 0;
}
