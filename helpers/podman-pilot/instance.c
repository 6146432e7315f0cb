/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "pilot.h"

/* <ids_dir> is shared by all users (1777, like /tmp); each user's meta files
 * live in <ids_dir>/<uid>, which must be a real directory owned by that user
 * and private to it (the original's checks). */
int instance_meta_dir(const char *ids_dir, char **ret) {
        _cleanup_free_ char *dir = xasprintf("%s/%u", ids_dir, (unsigned) getuid());
        struct stat st;

        if (mkdir(ids_dir, 01777) >= 0)
                (void) chmod(ids_dir, 01777);
        else if (errno != EEXIST)
                return log_error_errno(errno, "Cannot create %s: %m", ids_dir);
        if (stat(ids_dir, &st) < 0)
                return log_error_errno(errno, "Cannot access %s: %m", ids_dir);
        if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "%s is world-writable without the sticky bit, refusing", ids_dir);

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot create %s: %m", dir);
        if (lstat(dir, &st) < 0)
                return log_error_errno(errno, "Cannot access %s: %m", dir);
        if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "%s is not a directory owned by uid %u, refusing", dir,
                                       (unsigned) getuid());
        if ((st.st_mode & 0077) && chmod(dir, 0700) < 0)
                return log_error_errno(errno, "Cannot make %s private: %m", dir);
        *ret = TAKE_PTR(dir);
        return 0;
}

/* One lock file per instance: concurrent launches of a resume or attach
 * instance serialize on it while the container is looked up, created and
 * started, so exactly one container results. */
int instance_lock(const char *meta_dir, const char *instance) {
        _cleanup_free_ char *path = xasprintf("%s/%s.lock", meta_dir, instance);
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open lock %s: %m", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "Cannot lock %s: %m", path);
        return TAKE_FD(fd);
}

int instance_read_cid(const char *cid_file, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        char buf[129];
        ssize_t n;

        fd = open(cid_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT
                                       : log_error_errno(errno, "Cannot read %s: %m", cid_file);
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return log_error_errno(errno, "Cannot read %s: %m", cid_file);
        buf[n] = 0;
        buf[strcspn(buf, " \t\r\n")] = 0;
        if (buf[0] == 0)
                return -ENOENT;
        *ret = xstrdup(buf);
        return 0;
}
