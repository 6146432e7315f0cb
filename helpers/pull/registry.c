/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "pull.h"
#include "registry.h"

#define STAGING_MARK ".pull-"

/* Staging dirs whose owner is gone (their flock is free). */
static void remove_stale_staging(const Registry *reg) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd;

        fd = openat(reg->images_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd))) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int sfd = -EBADF;
                _cleanup_free_ char *p = NULL;

                if (de->d_name[0] != '.' || !strstr(de->d_name, STAGING_MARK))
                        continue;
                /* Locked: a pull still running holds it. */
                sfd = lock_file_at(reg->images_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, LOCK_EX | LOCK_NB);
                if (sfd < 0)
                        continue;
                p = path_join(reg->images, de->d_name);
                log_debug("Removing %s, left behind by an interrupted pull", p);
                (void) rm_rf(p);
        }
}

int registry_open(Registry *reg, bool user) {
        _cleanup_free_ char *storage = NULL;
        int r;

        *reg = REGISTRY_NULL;
        if (user && getuid() != 0)
                reg->dir = path_join(flake_home_dir(), ".config/flakes/firecracker");
        else
                reg->dir = xstrdup(flake_path(FLAKE_PATH_FIRECRACKER_DIR));
        reg->images = path_join(reg->dir, "images");
        storage = path_join(reg->dir, "storage");

        r = mkdir_p(reg->images, 0755);
        if (r >= 0)
                r = mkdir_p(storage, 0755);
        if (r < 0)
                return log_error_errno(r, "Cannot create the image registry %s: %m", reg->dir);
        reg->images_fd = open(reg->images, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (reg->images_fd < 0)
                return log_error_errno(errno, "Cannot open the image registry %s: %m", reg->images);
        remove_stale_staging(reg);
        return 0;
}

void registry_done(Registry *reg) {
        reg->dir = mfree(reg->dir);
        reg->images = mfree(reg->images);
        if (reg->images_fd >= 0)
                close(TAKE_FD(reg->images_fd));
}

char *registry_image_dir(const Registry *reg, const char *name) {
        return path_join(reg->images, name);
}

int registry_check_absent(const Registry *reg, const char *name, bool force) {
        struct stat st;

        if (force || fstatat(reg->images_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        return log_error_errno(SYNTHETIC_ERRNO(EEXIST),
                               "Image directory '%s/%s' already exists (use --force to replace it)", reg->images, name);
}

int staging_new(const Registry *reg, const char *image, Staging *ret) {
        _cleanup_free_ char *path = xasprintf("%s/.%s" STAGING_MARK "XXXXXX", reg->images, image);

        *ret = STAGING_NULL;
        if (!mkdtemp(path))
                return log_error_errno(errno, "Cannot write to the image registry %s: %m", reg->images);
        ret->path = TAKE_PTR(path);
        ret->name = path_basename(ret->path);
        ret->fd = lock_file_at(AT_FDCWD, ret->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, LOCK_EX);
        if (ret->fd < 0)
                return log_error_errno(ret->fd, "Cannot lock %s: %m", ret->path);
        /* mkdtemp() made it 0700; image dirs are readable by all users */
        if (fchmod(ret->fd, 0755) < 0)
                return log_error_errno(errno, "Cannot set the mode of %s: %m", ret->path);
        return 0;
}

int staging_install(const Registry *reg, Staging *s, const char *image, bool force) {
        _cleanup_close_ int lock_fd = -EBADF;
        struct stat st;
        bool exists;

        lock_fd = lock_directory(reg->images);
        if (lock_fd < 0)
                return log_error_errno(lock_fd, "Cannot lock %s: %m", reg->images);

        exists = fstatat(reg->images_fd, image, &st, AT_SYMLINK_NOFOLLOW) >= 0;
        if (exists && !force)
                return log_error_errno(SYNTHETIC_ERRNO(EEXIST),
                                       "Image directory '%s/%s' already exists (use --force to replace it)",
                                       reg->images, image);
        if (renameat2(reg->images_fd, s->name, reg->images_fd, image, exists ? RENAME_EXCHANGE : RENAME_NOREPLACE) < 0)
                return log_error_errno(errno, "Cannot move %s to %s/%s: %m", s->path, reg->images, image);
        if (!exists) {
                /* Nothing left to clean up. */
                s->path = mfree(s->path);
                s->name = mfree(s->name);
        }
        if (fsync(reg->images_fd) < 0)
                log_warning_errno(errno, "Failed to sync %s: %m", reg->images);
        return 0;
}

void staging_done(Staging *s) {
        if (s->path)
                (void) rm_rf(s->path);
        s->path = mfree(s->path);
        s->name = mfree(s->name);
        if (s->fd >= 0)
                close(TAKE_FD(s->fd));
}
