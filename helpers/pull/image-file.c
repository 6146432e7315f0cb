/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "image-file.h"
#include "log.h"
#include "macro.h"
#include "pull.h"

#define HOLE_BLOCK 4096
#define WRITEBACK_CHUNK (32ULL * 1024 * 1024)

static const uint8_t zeros[64 * 1024];

int image_file_open(ImageFile *f, int dir_fd, const char *dir_path, const char *name, bool hash) {
        *f = IMAGE_FILE_NULL;
        f->path = path_join(dir_path, name);
        f->fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
        if (f->fd < 0)
                return log_error_errno(errno, "Failed to create %s: %m", f->path);
        if (hash) {
                f->md = EVP_MD_CTX_new();
                if (!f->md || EVP_DigestInit_ex(f->md, EVP_sha256(), NULL) != 1)
                        return log_error_errno(SYNTHETIC_ERRNO(ENOMEM), "Failed to set up SHA-256");
        }
        return 0;
}

static bool is_zero(const uint8_t *p, size_t n) {
        return n > 0 && p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

static int write_all_at(ImageFile *f, const uint8_t *p, size_t n, uint64_t off) {
        while (n > 0) {
                ssize_t k = pwrite(f->fd, p, n, (off_t) off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "Failed to write %s: %m", f->path);
                }
                p += k;
                n -= (size_t) k;
                off += (uint64_t) k;
        }
        return 0;
}

int image_file_write_at(ImageFile *f, uint64_t offset, const void *data, size_t n) {
        const uint8_t *p = data;
        size_t run_start = 0;
        int r;

        if (offset < f->size)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Out of order data for %s", f->path);
        /* A hole is hashed as zeros: for a large one that takes minutes, so
         * a signal is checked on the way. */
        if (f->md)
                for (uint64_t gap = offset - f->size; gap > 0;) {
                        size_t k = gap < sizeof(zeros) ? (size_t) gap : sizeof(zeros);
                        if (pull_interrupted)
                                return -EINTR;
                        EVP_DigestUpdate(f->md, zeros, k);
                        gap -= k;
                }
        if (f->md)
                EVP_DigestUpdate(f->md, p, n);

        /* Write runs of data, skip whole zero blocks. */
        for (size_t i = 0; i < n; i += HOLE_BLOCK) {
                size_t l = n - i < HOLE_BLOCK ? n - i : HOLE_BLOCK;

                if (l == HOLE_BLOCK && is_zero(p + i, l)) {
                        if (i > run_start) {
                                r = write_all_at(f, p + run_start, i - run_start, offset + run_start);
                                if (r < 0)
                                        return r;
                        }
                        run_start = i + l;
                }
        }
        if (n > run_start) {
                r = write_all_at(f, p + run_start, n - run_start, offset + run_start);
                if (r < 0)
                        return r;
        }
        f->size = offset + n;

        if (f->size - f->synced >= WRITEBACK_CHUNK) {
                (void) sync_file_range(f->fd, (off_t) f->synced, (off_t) (f->size - f->synced), SYNC_FILE_RANGE_WRITE);
                f->synced = f->size;
        }
        return 0;
}

int image_file_finish(ImageFile *f, uint8_t ret_digest[SHA256_DIGEST_SIZE]) {
        if (ftruncate(f->fd, (off_t) f->size) < 0)
                return log_error_errno(errno, "Failed to set the size of %s: %m", f->path);
        if (fsync(f->fd) < 0)
                return log_error_errno(errno, "Failed to write %s to disk: %m", f->path);
        if (close(TAKE_FD(f->fd)) < 0)
                return log_error_errno(errno, "Failed to close %s: %m", f->path);
        if (ret_digest && f->md && EVP_DigestFinal_ex(f->md, ret_digest, NULL) != 1)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to compute SHA-256 of %s", f->path);
        return 0;
}

void image_file_done(ImageFile *f) {
        if (f->fd >= 0)
                close(TAKE_FD(f->fd));
        f->path = mfree(f->path);
        if (f->md) {
                EVP_MD_CTX_free(f->md);
                f->md = NULL;
        }
}
