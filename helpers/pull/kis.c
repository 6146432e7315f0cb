/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "archive-extract.h"
#include "checksum.h"
#include "fileio.h"
#include "image-file.h"
#include "kis-policy.h"
#include "kis.h"
#include "log.h"
#include "macro.h"
#include "pull.h"

#define SMALL_FILE_MAX 4096

static void drain(int fd) {
        _cleanup_free_ uint8_t *buf = xmalloc(64 * 1024);

        while (!pull_interrupted) {
                ssize_t k = read(fd, buf, 64 * 1024);
                if (k == 0 || (k < 0 && errno != EINTR))
                        break;
        }
}

/* The reader's message is "SOURCE: what went wrong". */
static int read_error(KisExtraction *x, ArchiveReader *r, int error, const char *what) {
        const char *e = archive_reader_error(r);

        if (error != -EBADMSG)
                return error;   /* logged by the reader, or -EINTR */
        free(x->read_error);
        x->read_error = xasprintf("%s: %s%s", x->source, what,
                                  e && startswith(e, x->source) ? e + strlen(x->source) + 2 : strna(e));
        return -EBADMSG;
}

/* The small text parts: checked for size, kept in memory. */
static int read_small(KisExtraction *x, ArchiveReader *r, const char *name, char **ret) {
        _cleanup_free_ char *buf = xmalloc(SMALL_FILE_MAX + 1);
        size_t n = 0;

        for (;;) {
                const void *data;
                size_t size;
                uint64_t offset;
                int k = archive_reader_read(r, &data, &size, &offset);

                if (k < 0)
                        return read_error(x, r, k, "");
                if (k == 0)
                        break;
                if (offset > SMALL_FILE_MAX || size > SMALL_FILE_MAX - offset)
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: '%s' is larger than %d bytes: not a checksum record",
                                               x->source, name, SMALL_FILE_MAX);
                if (offset > n)
                        memset(buf + n, 0, offset - n);         /* a hole */
                memcpy(buf + offset, data, size);
                if (offset + size > n)
                        n = offset + size;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int extract_file(KisExtraction *x, ArchiveReader *r, const ArchiveEntry *e, KisPart part,
                        uint8_t ret_digest[SHA256_DIGEST_SIZE], uint64_t *ret_size) {
        ImageFile f;
        int k;

        k = image_file_open(&f, x->dir_fd, x->dir_path, kis_part_to_string(part), part == KIS_ROOTFS);
        if (k < 0)
                goto finish;
        for (;;) {
                const void *buf;
                size_t size;
                uint64_t offset;

                k = archive_reader_read(r, &buf, &size, &offset);
                if (k == 0)
                        break;
                if (k < 0) {
                        k = read_error(x, r, k, "");
                        goto finish;
                }
                k = image_file_write_at(&f, offset, buf, size);
                if (k < 0)
                        goto finish;
        }
        /* A sparse entry may end in a hole. */
        if (e->size > f.size) {
                k = image_file_write_at(&f, e->size, NULL, 0);
                if (k < 0)
                        goto finish;
        }
        *ret_size = f.size;
        k = image_file_finish(&f, ret_digest);
finish:
        image_file_done(&f);
        return k;
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
                if (r == -EINTR)
                        return r;
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
        _cleanup_(archive_reader_freep) ArchiveReader *r = NULL;
        _cleanup_(names_free) char *names[_KIS_PART_MAX] = {};
        _cleanup_free_ char *record = NULL;
        /* One cap for an entry and for the sum (sparse entries count with
         * their holes: hashing them is what takes the time). */
        ArchiveLimits limits = {
                .max_entry_size = x->max_size,
                .max_total_size = x->max_size,
                .interrupted = &pull_interrupted,
        };
        uint8_t digest[SHA256_DIGEST_SIZE] = {};
        uint64_t rootfs_size = 0, ignored;
        const ArchiveEntry *e;
        int k;

        /* The shared reader (lib/archive/archive-extract.h) applies the path policy;
         * this layer decides what each regular file is. Symlinks must stay
         * inside the archive, as the original required, though none is
         * ever written. */
        k = archive_reader_new(x->source, fd, ARCHIVE_SYMLINKS_INSIDE, &limits, &r);
        if (k < 0)
                return k;

        for (;;) {
                k = archive_reader_next(r, &e);
                if (k == 0)
                        break;
                if (k < 0)
                        return read_error(x, r, k, names[KIS_ROOTFS] || names[KIS_KERNEL] ? "" : "not a KIS archive: ");
                /* Directories and links: nothing to classify (a KIS part is
                 * never a link). */
                if (e->type != ARCHIVE_ENTRY_REGULAR)
                        continue;

                _cleanup_free_ char *path = xstrdup(e->path);
                KisPart part = kis_classify(path);
                if (names[part])
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: not a KIS image: both '%s' and '%s' would be the %s",
                                               x->source, names[part], path, part == KIS_ROOTFS ? "rootfs (no known suffix)" :
                                               kis_part_to_string(part));
                log_debug("%s: %s -> %s", x->source, path, kis_part_to_string(part));

                switch (part) {
                case KIS_APPEND:
                        k = archive_reader_skip(r);
                        if (k < 0)
                                k = read_error(x, r, k, "");
                        break;
                case KIS_CHECKSUM:
                        k = read_small(x, r, path, &record);
                        if (k >= 0) {
                                _cleanup_free_ char *cp = path_join(x->dir_path, "checksum");
                                k = write_file_atomic(cp, record, strlen(record), 0644);
                                if (k < 0)
                                        log_error_errno(k, "Failed to write %s: %m", cp);
                        }
                        break;
                default:
                        k = extract_file(x, r, e, part, digest, part == KIS_ROOTFS ? &rootfs_size : &ignored);
                }
                if (k < 0)
                        return k;
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
