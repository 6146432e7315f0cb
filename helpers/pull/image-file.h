/* SPDX-License-Identifier: MIT */
#pragma once

/* A file being written from a stream (an image part), hashed on the way.
 *
 * Filesystem images are mostly zeros: all-zero blocks become holes instead
 * of writes, which saves disk space and time. Writeback is started as the
 * data comes in, so the fsync before installation does not stall at the
 * end. */

#include <stdbool.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "checksum.h"

typedef struct ImageFile {
        int fd;
        char *path;                 /* for messages */
        uint64_t size;              /* logical size so far */
        uint64_t synced;            /* writeback started up to here */
        EVP_MD_CTX *md;             /* NULL: not hashed */
} ImageFile;

#define IMAGE_FILE_NULL ((ImageFile) { .fd = -EBADF })

/* Creates name in dir_fd (must not exist), mode 0644. */
int image_file_open(ImageFile *f, int dir_fd, const char *dir_path, const char *name, bool hash);
/* Data for offset (>= current size; a gap is a hole and hashed as zeros).
 * Logs on failure (ENOSPC and friends, with the path). */
int image_file_write_at(ImageFile *f, uint64_t offset, const void *data, size_t n);
static inline int image_file_append(ImageFile *f, const void *data, size_t n) {
        return image_file_write_at(f, f->size, data, n);
}
/* Sets the final size, fsyncs, closes; ret_digest (may be NULL) gets the
 * SHA-256 of everything written. Logs on failure. */
int image_file_finish(ImageFile *f, uint8_t ret_digest[SHA256_DIGEST_SIZE]);
/* Releases everything (after finish, or on an error path). */
void image_file_done(ImageFile *f);
