/* SPDX-License-Identifier: MIT */
#pragma once

/* Unpacking a KIS archive (tar, compressed with gzip, bzip2, xz, zstd or
 * lz4) from a stream straight into an image directory: rootfs, kernel,
 * optional initrd, checksum. Nothing but regular files is written; the
 * shared reader's policy (lib/archive/archive-extract.h: absolute paths, "..",
 * links leaving the tree, devices, fifos, sizes over max_size) ends the
 * extraction at the first unsafe entry. */

#include "checksum.h"

typedef struct KisExtraction {
        const char *source;         /* URL, for messages */
        int dir_fd;                 /* the staging directory */
        const char *dir_path;
        uint64_t max_size;          /* per entry and in total; 0: none (--max-size) */
        /* A read error of the archive stream (truncated, not an archive):
         * possibly a consequence of a failed download, so the caller decides
         * whether to log it. Everything else is logged where it happens. */
        char *read_error;
} KisExtraction;

/* Reads the archive from fd until its end, then drains fd to EOF (so the
 * writer on the other side finishes). Returns 0 when rootfs, kernel and the
 * checksum record were found and the rootfs matches the record. */
int kis_extract_fd(KisExtraction *x, int fd);

void kis_extraction_done(KisExtraction *x);
