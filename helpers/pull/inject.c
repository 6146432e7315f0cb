/* SPDX-License-Identifier: MIT */
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "inject.h"
#include "log.h"
#include "macro.h"

static const char * const mount_points[] = {
        "/overlayroot", "/proc", "/sys", "/dev", "/dev/pts", "/mnt",
};

static void ext2fs_closep(ext2_filsys *fs) {
        /* Only reached on error paths: drop changes, do not flush. */
        if (*fs)
                ext2fs_free(*fs);
}

static errcode_t lookup(ext2_filsys fs, const char *path, ext2_ino_t *ret) {
        return ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, ret);
}

/* Creates path (its parent must exist) unless something is there. */
static int ensure_dir(ext2_filsys fs, const char *image, const char *path) {
        _cleanup_free_ char *parent = xstrdup(path);
        char *slash = strrchr(parent, '/');
        const char *name = strrchr(path, '/') + 1;
        ext2_ino_t ino, dir;
        errcode_t e;

        if (lookup(fs, path, &ino) == 0)
                return 0;
        slash[slash == parent ? 1 : 0] = 0;
        e = lookup(fs, parent, &dir);
        if (e)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "%s: cannot create %s: %s: %s", image, path, parent, error_message(e));
        e = ext2fs_mkdir(fs, dir, 0, name);
        if (e == EXT2_ET_DIR_NO_SPACE) {
                e = ext2fs_expand_dir(fs, dir);
                if (!e)
                        e = ext2fs_mkdir(fs, dir, 0, name);
        }
        if (e)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "%s: cannot create %s: %s", image, path, error_message(e));
        return 0;
}

static int copy_in(ext2_filsys fs, const char *image, const char *src, const char *dir_path, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = xmalloc(64 * 1024);
        struct ext2_inode inode = {};
        ext2_file_t file = NULL;
        ext2_ino_t dir, ino;
        struct stat st;
        errcode_t e;
        ssize_t k;

        fd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot read %s (the host copy of sci): %m", src);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s (the host copy of sci) is not a regular file", src);

        e = lookup(fs, dir_path, &dir);
        if (!e)
                e = ext2fs_new_inode(fs, dir, LINUX_S_IFREG | 0755, NULL, &ino);
        if (!e) {
                e = ext2fs_link(fs, dir, name, ino, EXT2_FT_REG_FILE);
                if (e == EXT2_ET_DIR_NO_SPACE) {
                        e = ext2fs_expand_dir(fs, dir);
                        if (!e)
                                e = ext2fs_link(fs, dir, name, ino, EXT2_FT_REG_FILE);
                }
        }
        if (e)
                goto fail;
        ext2fs_inode_alloc_stats2(fs, ino, +1, 0);

        inode.i_mode = LINUX_S_IFREG | 0755;
        inode.i_atime = inode.i_ctime = inode.i_mtime = (__u32) time(NULL);
        inode.i_links_count = 1;
        if (ext2fs_has_feature_inline_data(fs->super))
                inode.i_flags |= EXT4_INLINE_DATA_FL;
        else if (ext2fs_has_feature_extents(fs->super)) {
                ext2_extent_handle_t h;
                /* Sets up an empty extent tree in the inode. */
                e = ext2fs_extent_open2(fs, ino, &inode, &h);
                if (e)
                        goto fail;
                ext2fs_extent_free(h);
        }
        e = ext2fs_write_new_inode(fs, ino, &inode);
        if (!e && (inode.i_flags & EXT4_INLINE_DATA_FL))
                e = ext2fs_inline_data_init(fs, ino);
        if (!e)
                e = ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &file);
        while (!e && (k = read(fd, buf, 64 * 1024)) > 0) {
                unsigned written;
                for (char *p = buf; !e && k > 0; p += written, k -= written)
                        e = ext2fs_file_write(file, p, (unsigned) k, &written);
        }
        if (file) {
                errcode_t e2 = ext2fs_file_close(file);
                if (!e)
                        e = e2;
        }
        if (e)
                goto fail;
        return 0;
fail:
        return log_error_errno(SYNTHETIC_ERRNO(EIO), "%s: cannot write %s/%s: %s", image, dir_path, name, error_message(e));
}

int rootfs_make_flake_ready(const char *image, const char *sci) {
        _cleanup_(ext2fs_closep) ext2_filsys fs = NULL;
        ext2_ino_t ino;
        errcode_t e;
        int r;

        add_error_table(&et_ext2_error_table);
        e = ext2fs_open(image, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
        if (e)
                return log_error_errno(SYNTHETIC_ERRNO(EMEDIUMTYPE),
                                       "%s: not an ext2/ext3/ext4 filesystem image (%s): cannot add sci and mount points",
                                       image, error_message(e));
        e = ext2fs_read_bitmaps(fs);
        if (e)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "%s: cannot read the allocation bitmaps: %s", image, error_message(e));

        for (size_t i = 0; i < ELEMENTSOF(mount_points); i++) {
                r = ensure_dir(fs, image, mount_points[i]);
                if (r < 0)
                        return r;
        }

        if (lookup(fs, "/usr/sbin/sci", &ino) != 0) {
                r = ensure_dir(fs, image, "/usr");
                if (r >= 0)
                        r = ensure_dir(fs, image, "/usr/sbin");
                if (r >= 0)
                        r = copy_in(fs, image, sci, "/usr/sbin", "sci");
                if (r < 0)
                        return r;
        } else
                log_debug("%s: /usr/sbin/sci exists, keeping it", image);

        e = ext2fs_close_free(&fs);
        if (e)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "%s: cannot write the filesystem: %s", image, error_message(e));
        return 0;
}
