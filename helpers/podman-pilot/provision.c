/* SPDX-License-Identifier: MIT */
/* Provisioning of a created, not yet started container, as root on the
 * host, through "podman mount": host dependencies ("removed" and
 * "systemfiles" lists), delta layers over a base image, and includes. The
 * original used rsync; plain "cp -a" does the same job for these copies
 * without another dependency, and the tar includes are unpacked by the
 * shared extractor, which confines them to the container root. */
#include <fcntl.h>

#include "archive-extract.h"
#include "fileio.h"
#include "log.h"
#include "pilot.h"
#include "strv.h"

static bool strv_isempty_pp(char * const *l) {
        return !l || !l[0];
}

bool provision_needed(const Flake *f) {
        return f->base_container || f->check_host_dependencies ||
               !strv_isempty_pp(f->include_tar) || !strv_isempty_pp(f->include_path);
}

static int read_list(const char *path, char ***ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **l = NULL;
        char *save = NULL;
        int r;

        r = read_full_file(path, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line += strspn(line, " \t");
                line[strcspn(line, "\r")] = 0;
                if (line[0] == 0 || line[0] == '#')
                        continue;
                strv_extend(&l, line);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Copies host paths into the container root at the same place. (Not with
 * "cp --parents": with -a, coreutils 9.1 fails on parents relative to the
 * working directory.) */
static int sync_from_host(char * const *paths, const char *root, bool ignore_missing, const char *what) {
        size_t n = 0;
        int r;

        STRV_FOREACH(p, paths) {
                _cleanup_free_ char *dest = NULL;

                if (!path_is_absolute(*p)) {
                        log_warning("%s: ignoring relative path '%s'", what, *p);
                        continue;
                }
                if (!path_exists(*p)) {
                        if (ignore_missing)
                                continue;
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "%s: host path %s does not exist",
                                               what, *p);
                }
                dest = xasprintf("%s%s", root, *p);
                r = mkdir_parents(dest, 0755);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot create the parents of %s: %m", what, dest);
                r = spawn_wait((char *[]) { (char *) "cp", (char *) "-a", (char *) "-T", (char *) "--",
                                            *p, dest, NULL }, NULL, 0, NULL);
                if (r != 0)
                        return log_error_errno(r < 0 ? r : SYNTHETIC_ERRNO(EIO),
                                               "%s: copying %s into the container failed", what, *p);
                n++;
        }
        if (n > 0)
                log_info("Provisioned %zu host path(s) from %s", n, what);
        return 0;
}

static int provision_systemfiles(const char *root, const PilotArgs *a) {
        _cleanup_free_ char *script = path_join(root, "systemfiles"), *out = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int r;

        if (!path_exists(script))
                return 0;
        /* The image's script runs on the host, as root: images with a
         * systemfiles script must be trusted (as in the original). */
        r = spawn_wait((char *[]) { (char *) "sh", script, NULL }, NULL, SPAWN_CAPTURE_STDOUT, &out);
        if (r != 0) {
                log_full_errno(a->ignore_sync_error ? LOG_WARNING : LOG_ERR, r < 0 ? r : SYNTHETIC_ERRNO(EIO),
                               "%s failed (exit status %d)", script, r);
                return a->ignore_sync_error ? 0 : -EIO;
        }
        r = write_file_atomic(script, out, strlen(out), 0644);
        if (r < 0)
                return log_error_errno(r, "Cannot write %s: %m", script);
        r = read_list(script, &l);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", script);
        r = sync_from_host(l, root, false, "systemfiles");
        return a->ignore_sync_error ? 0 : r;
}

static int provision_removed(const char *list_file, const char *root) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = read_list(list_file, &l);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", list_file);
        /* The delta build stripped these because the host provides them;
         * what the host lacks is tolerated, as in the original. */
        return sync_from_host(l, root, true, list_file);
}

static int provision_layer(const PodmanContext *p, const char *image, const char *root, char ***removed) {
        _cleanup_free_ char *mnt = NULL, *src = NULL, *list = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = podman_waitl(p, 0, &mnt, "image", "mount", image, NULL);
        if (r != 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                       "Layer image %s cannot be mounted (is it in the flake image store?)", image);
        podman_chomp(mnt);
        log_info("Provisioning layer %s", image);
        list = path_join(mnt, "removed");
        if (read_list(list, &l) >= 0)
                strv_extend_strv(removed, l);
        src = xasprintf("%s/.", mnt);
        r = spawn_wait((char *[]) { (char *) "cp", (char *) "-a", src, (char *) root, NULL }, NULL, 0, NULL);
        (void) podman_waitl(p, SPAWN_NULL_STDOUT, NULL, "image", "umount", image, NULL);
        if (r != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Copying layer %s into the container failed", image);
        return 0;
}

/* Through the one extractor and its path policy (lib/archive/archive-extract.h),
 * which also keeps libarchive off the launch path: it is dlopen()ed only
 * here. */
static int extract_tar(const char *tar, const char *root) {
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return log_error_errno(errno, "Cannot open the container root %s: %m", root);
        return archive_extract_file(tar, fd, NULL);
}

static int provision_includes(const Flake *f, const char *root) {
        int r;

        STRV_FOREACH(t, f->include_tar) {
                if (!path_exists(*t))
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "include tar %s does not exist", *t);
                log_info("Provisioning include tar %s", *t);
                r = extract_tar(*t, root);
                if (r < 0)
                        return r;
        }
        return sync_from_host(f->include_path, root, false, "include.path");
}

int provision_container(const PodmanContext *p, const Flake *f, const PilotArgs *a, const char *cid) {
        _cleanup_free_ char *root = NULL, *removed_file = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        int r;

        if (geteuid() != 0 || !p->rootful)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "Provisioning (base, layers, host dependencies, includes) needs "
                                       "'runas: root' and a pilot running as root");

        r = podman_waitl(p, 0, &root, "mount", cid, NULL);
        if (r != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Cannot mount container %s", cid);
        podman_chomp(root);

        r = provision_systemfiles(root, a);
        if (r >= 0) {
                removed_file = path_join(root, "removed");
                r = provision_removed(removed_file, root);
        }
        if (r >= 0 && f->base_container) {
                STRV_FOREACH(l, f->layers) {
                        r = provision_layer(p, *l, root, &removed);
                        if (r < 0)
                                break;
                }
                if (r >= 0)
                        r = provision_layer(p, f->image, root, &removed);
                if (r >= 0)
                        r = sync_from_host(removed, root, true, "the layers' removed lists");
        }
        if (r >= 0)
                r = provision_includes(f, root);

        (void) podman_waitl(p, SPAWN_NULL_STDOUT, NULL, "umount", cid, NULL);
        return r;
}
