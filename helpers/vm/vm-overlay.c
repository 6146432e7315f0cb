/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/stat.h>

#include "archive-extract.h"
#include "fileio.h"
#include "log.h"
#include "size.h"
#include "spawn.h"
#include "strv.h"
#include "vm-overlay.h"

/* Through the one extractor and its path policy (lib/archive/archive-extract.h):
 * the tar lands below dest whatever its names say. */
static int extract_tar(const VmInstance *i, const char *tar, int dest_fd) {
        _cleanup_(archive_reader_freep) ArchiveReader *r = NULL;
        _cleanup_free_ char *source = xasprintf("%s: include tar %s", i->name, tar);
        _cleanup_close_ int fd = open(tar, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int k;

        if (fd < 0)
                return log_error_errno(errno, "%s: %m", source);
        k = archive_reader_new(source, fd, 0, NULL, &r);
        if (k < 0)
                return k;
        return archive_extract(r, dest_fd);
}

/* Host paths are the administrator's own files, not an archive: copied as
 * podman-pilot copies them (cp -a, links not followed), at the same path,
 * parents made as needed. */
static int copy_path(const VmInstance *i, const char *path, const char *upper) {
        _cleanup_free_ char *dest = path_join(upper, path);
        int r;

        if (!path_exists(path))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "%s: include path %s does not exist", i->name, path);
        r = mkdir_parents(dest, 0755);
        if (r < 0)
                return log_error_errno(r, "%s: cannot create the parents of %s: %m", i->name, dest);
        r = spawn_wait((char *[]) { (char *) "cp", (char *) "-a", (char *) "-T", (char *) "--",
                                    (char *) path, dest, NULL }, NULL, SPAWN_NULL_STDIN, NULL);
        if (r != 0)
                return log_error_errno(r < 0 ? r : SYNTHETIC_ERRNO(EIO), "%s: include path %s: copying it failed",
                                       i->name, path);
        return 0;
}

static int stage_includes(const VmInstance *i, const char *upper) {
        _cleanup_close_ int upper_fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (upper_fd < 0)
                return log_error_errno(errno, "%s: cannot open %s: %m", i->name, upper);
        STRV_FOREACH(t, i->flake->include_tar) {
                r = extract_tar(i, *t, upper_fd);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(p, i->flake->include_path) {
                /* The same path in the guest, parents included. */
                if (!path_is_absolute(*p))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: include path %s is not absolute",
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
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: overlay size %s is too small (at least 1MiB)",
                                       i->name, format_size(sizebuf, sizeof(sizebuf), i->flake->overlay_size));
        if (i->flake->resume && access(i->overlay_path, F_OK) == 0)
                return 0;   /* a resume instance keeps its overlay */

        /* Searchable (as tmpfiles.d makes storage/): the VMM user opens the
         * overlay in it, which itself is 0600 and the VMM user's. */
        r = mkdir_parents(i->overlay_path, 0755);
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
                return log_error_errno(r < 0 ? r : SYNTHETIC_ERRNO(EIO),
                                       "%s: creating the overlay %s failed (mke2fs %s)", i->name, i->overlay_path,
                                       r == -ENOENT ? "is not installed" : "failed");
        }
        return 0;
}
