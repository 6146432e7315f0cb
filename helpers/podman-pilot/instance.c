/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "pilot.h"

/* Where the meta dir is and what is checked on the way: see
 * flake_instance_state_dir(). Every directory on the path is owned by root
 * or by us and cannot be swapped by anyone else, so the path stays valid
 * for podman's --cidfile and for our own openat()s after the check. */
int instance_meta_dir(const char *ids_dir, char **ret) {
        _cleanup_close_ int fd = -EBADF;

        fd = flake_instance_state_dir(ids_dir, true, ret);
        return fd < 0 ? fd : 0;
}

int instance_served_meta_dir(uid_t uid, char **ret) {
        _cleanup_free_ char *path = xasprintf("%s/ids/%u", flake_path(FLAKE_PATH_RUNTIME_DIR), (unsigned) uid);
        _cleanup_close_ int fd = -EBADF;

        fd = flake_open_private_dir(path, 0, true, 0755);
        if (fd < 0)
                return fd;
        *ret = TAKE_PTR(path);
        return 0;
}

/* One lock file per instance: concurrent launches of a resume or attach
 * instance serialize on it while the container is looked up, created and
 * started, so exactly one container results. */
int instance_lock(const char *meta_dir, const char *instance) {
        _cleanup_free_ char *path = xasprintf("%s/%s.lock", meta_dir, instance);
        int fd;

        fd = lock_file_at(AT_FDCWD, path, O_RDWR | O_CREAT | O_NOFOLLOW, LOCK_EX);
        if (fd < 0)
                return log_error_errno(fd, "Cannot lock %s: %m", path);
        return fd;
}

int instance_read_cid(const char *cid_file, char **ret) {
        int r;

        r = podman_read_cid_file(AT_FDCWD, cid_file, ret);
        if (r == -EBADMSG)
                return log_error_errno(r, "%s does not hold a container ID, refusing (remove it to start afresh)",
                                       cid_file);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Cannot read %s: %m", cid_file);
        return r;
}
