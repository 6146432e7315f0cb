/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "checksum.h"
#include "fileio.h"
#include "image-file.h"
#include "kis-policy.h"
#include "kis.h"
#include "log.h"
#include "macro.h"
#include "pull.h"

#define READ_BUFFER_SIZE (1024 * 1024)
#define SMALL_FILE_MAX 4096

typedef struct Source {
        int fd;
        uint8_t *buf;
} Source;

static void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}

static la_ssize_t source_read(struct archive *a, void *userdata, const void **ret_buf) {
        Source *s = userdata;

        for (;;) {
                ssize_t k = read(s->fd, s->buf, READ_BUFFER_SIZE);
                if (k >= 0) {
                        *ret_buf = s->buf;
                        return k;
                }
                if (errno != EINTR || pull_interrupted) {
                        archive_set_error(a, errno, pull_interrupted ? "interrupted" : "read error: %s", strerror(errno));
                        return -1;
                }
        }
}

static void drain(int fd) {
        _cleanup_free_ uint8_t *buf = xmalloc(64 * 1024);

        while (!pull_interrupted) {
                ssize_t k = read(fd, buf, 64 * 1024);
                if (k == 0 || (k < 0 && errno != EINTR))
                        break;
        }
}

static int read_error(KisExtraction *x, struct archive *a, const char *what) {
        free(x->read_error);
        x->read_error = xasprintf("%s: %s%s", x->source, what, archive_error_string(a) ?: "unknown error");
        return -EBADMSG;
}

/* The small text parts: checked for size, kept in memory. */
static int read_small(KisExtraction *x, struct archive *a, const char *name, char **ret) {
        _cleanup_free_ char *buf = xmalloc(SMALL_FILE_MAX + 1);
        size_t n = 0;

        for (;;) {
                la_ssize_t k = archive_read_data(a, buf + n, SMALL_FILE_MAX + 1 - n);
                if (k < 0)
                        return read_error(x, a, "");
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > SMALL_FILE_MAX)
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: '%s' is larger than %d bytes: not a checksum record",
                                               x->source, name, SMALL_FILE_MAX);
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int extract_file(KisExtraction *x, struct archive *a, struct archive_entry *e, KisPart part,
                        uint8_t ret_digest[SHA256_DIGEST_SIZE], uint64_t *ret_size) {
        ImageFile f;
        int r;

        r = image_file_open(&f, x->dir_fd, x->dir_path, kis_part_to_string(part), part == KIS_ROOTFS);
        if (r < 0)
                goto finish;
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t offset;

                r = archive_read_data_block(a, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_OK) {
                        r = read_error(x, a, "");
                        goto finish;
                }
                r = image_file_write_at(&f, (uint64_t) offset, buf, size);
                if (r < 0)
                        goto finish;
        }
        /* A sparse entry may end in a hole. */
        if (archive_entry_size_is_set(e) && (uint64_t) archive_entry_size(e) > f.size) {
                r = image_file_write_at(&f, (uint64_t) archive_entry_size(e), NULL, 0);
                if (r < 0)
                        goto finish;
        }
        *ret_size = f.size;
        r = image_file_finish(&f, ret_digest);
finish:
        image_file_done(&f);
        return r;
}

static int check_entry(KisExtraction *x, struct archive_entry *e, char **ret_path) {
        _cleanup_free_ char *path = NULL;
        const char *raw = archive_entry_pathname(e) ?: archive_entry_pathname_utf8(e);
        const char *link;
        mode_t type = archive_entry_filetype(e);
        int r;

        if (!raw)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s: archive entry without a usable name", x->source);
        r = kis_entry_path_normalize(raw, &path);
        if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s: unsafe archive entry '%s': %s", x->source, raw,
                                       r == -EPERM ? "absolute path or '..' component" : "empty name");

        if ((link = archive_entry_hardlink(e))) {
                _cleanup_free_ char *target = NULL;
                if (kis_entry_path_normalize(link, &target) < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s: unsafe archive entry '%s': hard link to '%s' leaves the archive",
                                               x->source, raw, link);
                /* Nothing to classify: a KIS part is never a hard link. */
                *ret_path = NULL;
                return 0;
        }

        switch (type) {
        case AE_IFREG:
        case AE_IFDIR:
                break;
        case AE_IFLNK:
                link = archive_entry_symlink(e);
                if (kis_link_target_check(path, strempty(link)) < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s: unsafe archive entry '%s': symbolic link to '%s' leaves the archive",
                                               x->source, raw, strempty(link));
                break;
        default:
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s: unsafe archive entry '%s': %s are not allowed",
                                       x->source, raw,
                                       type == AE_IFCHR || type == AE_IFBLK ? "device nodes" :
                                       type == AE_IFIFO ? "fifos" : "special files");
        }
        *ret_path = type == AE_IFREG ? TAKE_PTR(path) : NULL;
        return 0;
}

static int verify(KisExtraction *x, const char *record_text, const uint8_t digest[SHA256_DIGEST_SIZE], uint64_t size) {
        _cleanup_free_ char *rootfs = path_join(x->dir_path, "rootfs");
        ChecksumRecord rec;
        uint8_t d[SHA256_DIGEST_SIZE];
        char want[SHA256_HEX_SIZE], got[SHA256_HEX_SIZE];
        int r;

        if (checksum_record_parse(record_text, &rec) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "%s: malformed checksum record (expected \"<sha256> <blocks> <blocksize>\")", x->source);
        if (rec.length != UINT64_MAX && rec.length > size)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "%s: image checksum verification failed: the rootfs has %" PRIu64 " bytes, "
                                       "the checksum record covers %" PRIu64, x->source, size, rec.length);
        if (rec.length == UINT64_MAX || rec.length == size)
                memcpy(d, digest, sizeof(d));
        else {
                /* The record covers a prefix: rare, so re-read rather than
                 * hash every image twice. */
                r = sha256_file(rootfs, rec.length, d);
                if (r < 0)
                        return log_error_errno(r, "Failed to read back %s: %m", rootfs);
        }
        if (memcmp(d, rec.digest, sizeof(d)) != 0) {
                sha256_to_hex(rec.digest, want);
                sha256_to_hex(d, got);
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "%s: image checksum verification failed: expected %s, got %s", x->source, want, got);
        }
        return 0;
}

static void names_free(char *(*names)[_KIS_PART_MAX]) {
        for (size_t i = 0; i < _KIS_PART_MAX; i++)
                free((*names)[i]);
}

int kis_extract_fd(KisExtraction *x, int fd) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        _cleanup_(names_free) char *names[_KIS_PART_MAX] = {};
        _cleanup_free_ char *record = NULL;
        _cleanup_free_ uint8_t *buf = xmalloc(READ_BUFFER_SIZE);
        Source src = { .fd = fd, .buf = buf };
        uint8_t digest[SHA256_DIGEST_SIZE] = {};
        uint64_t rootfs_size = 0, ignored;
        struct archive_entry *e;
        int r;

        if (!a)
                abort();
        /* Only in-process decompressors: never run an external program
         * because a download asks for it. */
        archive_read_support_format_tar(a);
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_bzip2(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_lzma(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_lz4(a);

        if (archive_read_open(a, &src, NULL, source_read, NULL) != ARCHIVE_OK)
                return read_error(x, a, "not a KIS archive: ");

        for (;;) {
                _cleanup_free_ char *path = NULL;
                KisPart part;

                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return read_error(x, a, names[KIS_ROOTFS] || names[KIS_KERNEL] ? "" : "not a KIS archive: ");

                r = check_entry(x, e, &path);
                if (r < 0)
                        return r;
                if (!path)
                        continue;

                part = kis_classify(path);
                if (names[part])
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: not a KIS image: both '%s' and '%s' would be the %s",
                                               x->source, names[part], path, part == KIS_ROOTFS ? "rootfs (no known suffix)" :
                                               kis_part_to_string(part));
                log_debug("%s: %s -> %s", x->source, path, kis_part_to_string(part));

                switch (part) {
                case KIS_APPEND:
                        r = archive_read_data_skip(a) < ARCHIVE_OK ? read_error(x, a, "") : 0;
                        break;
                case KIS_CHECKSUM:
                        r = read_small(x, a, path, &record);
                        if (r >= 0) {
                                _cleanup_free_ char *cp = path_join(x->dir_path, "checksum");
                                r = write_file_atomic(cp, record, strlen(record), 0644);
                                if (r < 0)
                                        log_error_errno(r, "Failed to write %s: %m", cp);
                        }
                        break;
                default:
                        r = extract_file(x, a, e, part, digest, part == KIS_ROOTFS ? &rootfs_size : &ignored);
                }
                if (r < 0)
                        return r;
                names[part] = TAKE_PTR(path);
        }

        drain(fd);
        if (pull_interrupted)
                return -EINTR;

        for (KisPart p = KIS_ROOTFS; p <= KIS_CHECKSUM; p++)
                if (p != KIS_INITRD && !names[p])
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: not a KIS image: no %s in the archive",
                                               x->source,
                                               p == KIS_ROOTFS ? "filesystem image" :
                                               p == KIS_KERNEL ? "kernel (*.kernel)" : "checksum record (*.sha256)");

        return verify(x, record, digest, rootfs_size);
}

void kis_extraction_done(KisExtraction *x) {
        x->read_error = mfree(x->read_error);
}
