/* SPDX-License-Identifier: MIT */
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "inject.h"
#include "sandbox.h"
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

static int copy_in(ext2_filsys fs, const char *image, int fd, const char *dir_path, const char *name) {
        _cleanup_free_ char *buf = xmalloc(64 * 1024);
        struct ext2_inode inode = {};
        ext2_file_t file = NULL;
        ext2_ino_t dir, ino;
        errcode_t e;
        ssize_t k;

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

/* Removes the directory entry dir_path/name whatever it is (a file, a
 * symbolic link, a device), never a directory, and frees its inode when that
 * was the last link. The entry itself is not followed: a link in an untrusted
 * image decides nothing. */
static int remove_entry(ext2_filsys fs, const char *image, const char *dir_path, const char *name) {
        struct ext2_inode inode;
        ext2_ino_t dir, ino;
        blk64_t ea;
        errcode_t e;

        e = lookup(fs, dir_path, &dir);
        if (e)
                return 0;               /* nothing there: ensure_dir() makes it */
        e = ext2fs_lookup(fs, dir, name, (int) strlen(name), NULL, &ino);
        if (e == EXT2_ET_FILE_NOT_FOUND)
                return 0;
        if (!e)
                e = ext2fs_read_inode(fs, ino, &inode);
        if (e)
                goto fail;
        if (LINUX_S_ISDIR(inode.i_mode))
                return log_error_errno(SYNTHETIC_ERRNO(EISDIR), "%s: %s/%s is a directory: cannot install sci there",
                                       image, dir_path, name);
        e = ext2fs_unlink(fs, dir, name, ino, 0);
        if (e)
                goto fail;
        if (inode.i_links_count > 1) {
                inode.i_links_count--;
                e = ext2fs_write_inode(fs, ino, &inode);
                return e ? log_error_errno(SYNTHETIC_ERRNO(EIO), "%s: cannot update %s/%s: %s", image, dir_path, name,
                                           error_message(e)) : 0;
        }
        if (ext2fs_inode_has_valid_blocks2(fs, &inode)) {
                e = ext2fs_punch(fs, ino, &inode, NULL, 0, ~0ULL);
                if (e)
                        goto fail;
        }
        ea = ext2fs_file_acl_block(fs, &inode);
        if (ea) {
                __u32 count;
                e = ext2fs_adjust_ea_refcount3(fs, ea, NULL, -1, &count, ino);
                if (e)
                        goto fail;
                if (count == 0)
                        ext2fs_block_alloc_stats2(fs, ea, -1);
                ext2fs_file_acl_block_set(fs, &inode, 0);
        }
        inode.i_links_count = 0;
        inode.i_dtime = (__u32) time(NULL);
        e = ext2fs_write_inode(fs, ino, &inode);
        if (e)
                goto fail;
        ext2fs_inode_alloc_stats2(fs, ino, -1, 0);
        log_debug("%s: removed the image's own %s/%s", image, dir_path, name);
        return 0;
fail:
        return log_error_errno(SYNTHETIC_ERRNO(EIO), "%s: cannot replace %s/%s: %s", image, dir_path, name, error_message(e));
}

static void com_err_quiet(const char *whoami, errcode_t code, const char *fmt, va_list args) {
}

typedef struct EditContext {
        const char *image;          /* for messages: where it came from */
        bool not_ext_is_warning;
} EditContext;

int rootfs_edit(int image_fd, int sci_fd, const char *label, bool not_ext_is_warning) {
        _cleanup_(ext2fs_closep) ext2_filsys fs = NULL;
        char name[16];
        errcode_t e;
        int r;

        add_error_table(&et_ext2_error_table);
        /* libext2fs reports some damage through com_err() on stderr as
         * well as in its return value: one line is ours to write. */
        set_com_err_hook(com_err_quiet);
        /* unixfd: libext2fs takes the descriptor we hold; it opens nothing. */
        snprintf(name, sizeof(name), "%d", image_fd);
        e = ext2fs_open(name, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unixfd_io_manager, &fs);
        if (e) {
                if (not_ext_is_warning) {
                        log_warning("%s: not an ext2/ext3/ext4 filesystem image (%s): sci not installed, the image boots "
                                    "its own /usr/sbin/sci (an image made for the original flake-pilot then needs "
                                    "%%serial, see flake-pull(8))", label, error_message(e));
                        return -EMEDIUMTYPE;
                }
                return log_error_errno(SYNTHETIC_ERRNO(EMEDIUMTYPE),
                                       "%s: not an ext2/ext3/ext4 filesystem image (%s): cannot add sci and mount points",
                                       label, error_message(e));
        }
        /* What e2fsck checks before it reads the bitmaps: libext2fs's
         * bitmap reader trusts the group descriptors (a crafted image
         * overflowed its buffer under the fuzzer). */
        e = ext2fs_check_desc(fs);
        if (e)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: damaged ext2/ext3/ext4 image: %s", label, error_message(e));
        e = ext2fs_read_bitmaps(fs);
        if (e)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "%s: cannot read the allocation bitmaps: %s", label, error_message(e));

        for (size_t i = 0; i < ELEMENTSOF(mount_points); i++) {
                r = ensure_dir(fs, label, mount_points[i]);
                if (r < 0)
                        return r;
        }

        /* Ours replaces whatever the image has: the host and the guest then
         * speak the same protocol (images made for the original flake-pilot
         * carry its sci, which only knows the serial console and its own
         * vsock protocol). */
        r = ensure_dir(fs, label, "/usr");
        if (r >= 0)
                r = ensure_dir(fs, label, "/usr/sbin");
        if (r >= 0)
                r = remove_entry(fs, label, "/usr/sbin", "sci");
        if (r >= 0)
                r = copy_in(fs, label, sci_fd, "/usr/sbin", "sci");
        if (r < 0)
                return r;

        e = ext2fs_close_free(&fs);
        if (e)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "%s: cannot write the filesystem: %s", label, error_message(e));
        return 0;
}

/* In the sandbox (sandbox.h): fds[0] is the image (read-write), fds[1] the
 * host copy of sci. Nothing else is reachable from here. */
static int edit_in_sandbox(const int *fds, void *userdata) {
        const EditContext *c = userdata;

        return rootfs_edit(fds[0], fds[1], c->image, c->not_ext_is_warning);
}

int rootfs_make_flake_ready(const char *image, const char *label, const char *sci, bool not_ext_is_warning) {
        _cleanup_close_ int image_fd = -EBADF, sci_fd = -EBADF;
        EditContext c = { .image = label, .not_ext_is_warning = not_ext_is_warning };
        struct stat st;

        /* Both opened here, where the paths are ours; the editor gets only
         * the two descriptors. */
        sci_fd = open(sci, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (sci_fd < 0 || fstat(sci_fd, &st) < 0)
                return log_error_errno(errno, "Cannot read %s (the host copy of sci): %m", sci);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s (the host copy of sci) is not a regular file", sci);
        image_fd = open(image, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (image_fd < 0)
                return log_error_errno(negative_errno(), "Cannot open %s: %m", image);

        return sandbox_run("image editor", (const int[]) { image_fd, sci_fd }, 2, edit_in_sandbox, &c);
}
