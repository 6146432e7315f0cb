/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "size.h"
#include "spawn.h"
#include "strv.h"
#include "vm-overlay.h"

static struct archive *disk_writer(void) {
        struct archive *w = archive_write_disk_new();

        /* Confined: every path is prefixed with the staging dir by
         * copy_entries() (which is why absolute names are allowed here), no
         * "..", no writing through links. */
        archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                                       ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS);
        return w;
}

/* Copies every entry of a (tar or disk) reader below dest, keeping its path:
 * "etc/x" and "/etc/x" both land in dest/etc/x. */
static int copy_entries(const VmInstance *i, const char *what, struct archive *a, bool disk, const char *dest) {
        struct archive *w = disk_writer();
        struct archive_entry *e;
        int r = 0;

        for (;;) {
                _cleanup_free_ char *p = NULL;
                int k = archive_read_next_header(a, &e);

                if (k == ARCHIVE_EOF)
                        break;
                if (k != ARCHIVE_OK && k != ARCHIVE_WARN) {
                        r = log_error_errno(SYNTHETIC_ERRNO(-EIO), "%s: include %s: %s", i->name, what,
                                            archive_error_string(a));
                        break;
                }
                if (disk && archive_read_disk_can_descend(a) > 0)
                        (void) archive_read_disk_descend(a);
                p = path_join(dest, archive_entry_pathname(e));
                archive_entry_set_pathname(e, p);
                if (archive_entry_hardlink(e)) {
                        _cleanup_free_ char *h = path_join(dest, archive_entry_hardlink(e));
                        archive_entry_set_hardlink(e, h);
                }
                k = archive_write_header(w, e);
                if (k == ARCHIVE_OK && archive_entry_size(e) > 0) {
                        const void *buf;
                        size_t size;
                        int64_t off;
                        while ((k = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
                                if (archive_write_data_block(w, buf, size, off) != ARCHIVE_OK)
                                        break;
                        if (k == ARCHIVE_EOF)
                                k = ARCHIVE_OK;
                }
                if (k != ARCHIVE_OK && k != ARCHIVE_WARN) {
                        r = log_error_errno(SYNTHETIC_ERRNO(-EIO), "%s: include %s: %s", i->name, what,
                                            archive_error_string(w));
                        break;
                }
        }
        if (archive_write_close(w) != ARCHIVE_OK && r == 0)
                r = log_error_errno(SYNTHETIC_ERRNO(-EIO), "%s: include %s: %s", i->name, what,
                                    archive_error_string(w));
        archive_write_free(w);
        return r;
}

static int extract_tar(const VmInstance *i, const char *tar, const char *dest) {
        struct archive *a = archive_read_new();
        int r;

        archive_read_support_filter_all(a);
        archive_read_support_format_all(a);
        if (archive_read_open_filename(a, tar, 64 * 1024) != ARCHIVE_OK)
                r = log_error_errno(SYNTHETIC_ERRNO(-EIO), "%s: include tar %s: %s", i->name, tar,
                                    archive_error_string(a));
        else
                r = copy_entries(i, tar, a, false, dest);
        archive_read_free(a);
        return r;
}

static int copy_path(const VmInstance *i, const char *path, const char *dest) {
        struct archive *a = archive_read_disk_new();
        int r;

        archive_read_disk_set_standard_lookup(a);
        archive_read_disk_set_symlink_physical(a);
        if (archive_read_disk_open(a, path) != ARCHIVE_OK)
                r = log_error_errno(SYNTHETIC_ERRNO(-ENOENT), "%s: include path %s: %s", i->name, path,
                                    archive_error_string(a));
        else
                r = copy_entries(i, path, a, true, dest);
        archive_read_free(a);
        return r;
}

static int stage_includes(const VmInstance *i, const char *upper) {
        int r;

        STRV_FOREACH(t, i->flake->include_tar) {
                r = extract_tar(i, *t, upper);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(p, i->flake->include_path) {
                /* The same path in the guest, parents included. */
                if (!path_is_absolute(*p))
                        return log_error_errno(SYNTHETIC_ERRNO(-EINVAL), "%s: include path %s is not absolute",
                                               i->name, *p);
                r = copy_path(i, *p, upper);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vm_overlay_prepare(const VmInstance *i) {
        _cleanup_free_ char *staging = NULL, *upper = NULL, *size = NULL;
        bool includes = strv_length(i->flake->include_tar) > 0 || strv_length(i->flake->include_path) > 0;
        char sizebuf[32];
        int r;

        if (!i->overlay_path)
                return 0;
        if (i->flake->overlay_size < VM_OVERLAY_SIZE_MIN)
                return log_error_errno(SYNTHETIC_ERRNO(-EINVAL), "%s: overlay size %s is too small (at least 1MiB)",
                                       i->name, format_size(sizebuf, sizeof(sizebuf), i->flake->overlay_size));
        if (i->flake->resume && access(i->overlay_path, F_OK) == 0)
                return 0;   /* a resume instance keeps its overlay */

        r = mkdir_parents(i->overlay_path, 0700);
        if (r < 0)
                return log_error_errno(r, "%s: cannot create the directory of %s: %m", i->name, i->overlay_path);

        if (includes) {
                staging = xasprintf("%s.staging", i->overlay_path);
                (void) rm_rf(staging);
                upper = path_join(staging, "rootfs_upper");
                r = mkdir_p(upper, 0755);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot create %s: %m", i->name, upper);
                r = stage_includes(i, upper);
                if (r < 0) {
                        (void) rm_rf(staging);
                        return r;
                }
        }

        /* mke2fs creates the file itself, sparse, of the given size in KiB. */
        (void) unlink(i->overlay_path);
        size = xasprintf("%lluk", (unsigned long long) (i->flake->overlay_size / 1024));
        char *argv[] = { (char *) "mke2fs", (char *) "-q", (char *) "-F", (char *) "-t", (char *) "ext2",
                         (char *) "-E", (char *) "root_owner=0:0",
                         staging ? (char *) "-d" : i->overlay_path, staging ?: size,
                         staging ? i->overlay_path : NULL, staging ? size : NULL, NULL };
        r = spawn_wait(argv, NULL, SPAWN_NULL_STDIN | SPAWN_NULL_STDOUT, NULL);
        if (staging)
                (void) rm_rf(staging);
        if (r != 0) {
                (void) unlink(i->overlay_path);
                return log_error_errno(SYNTHETIC_ERRNO(r < 0 ? r : -EIO),
                                       "%s: creating the overlay %s failed (mke2fs %s)", i->name, i->overlay_path,
                                       r == -ENOENT ? "is not installed" : "failed");
        }
        return 0;
}
