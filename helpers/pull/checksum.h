/* SPDX-License-Identifier: MIT */
#pragma once

/* The KIS checksum record, as KIWI writes it next to the image:
 * "<sha256 hex> <blocks> <blocksize>". The digest covers the first
 * blocks × blocksize bytes of the filesystem image; without the two numbers
 * it covers the whole file. */

#include <stdbool.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE (SHA256_DIGEST_SIZE * 2 + 1)

/* The files of an image directory that hold records: "checksum" is the KIS
 * archive's record of the rootfs as pulled (verified at pull time, kept as
 * KIWI wrote it); "checksum.installed" covers the rootfs as installed, after
 * flake-pull put sci and the mount points into it (flake-pull(8)). */
#define CHECKSUM_PULLED "checksum"
#define CHECKSUM_INSTALLED "checksum.installed"

typedef struct ChecksumRecord {
        uint8_t digest[SHA256_DIGEST_SIZE];
        uint64_t length;            /* bytes covered; UINT64_MAX: the whole file */
} ChecksumRecord;

/* 64 hex digits (either case) → digest. -EINVAL otherwise. */
int sha256_from_hex(const char *s, uint8_t ret[SHA256_DIGEST_SIZE]);
void sha256_to_hex(const uint8_t d[SHA256_DIGEST_SIZE], char ret[SHA256_HEX_SIZE]);

/* Parses the record text (trailing whitespace and newline allowed).
 * -EINVAL: empty, not hex, bad numbers, or blocks × blocksize overflows. */
int checksum_record_parse(const char *text, ChecksumRecord *ret);

/* SHA-256 over the first length bytes of path (UINT64_MAX: all of it).
 * -ERANGE if the file is shorter than length. */
int sha256_file(const char *path, uint64_t length, uint8_t ret[SHA256_DIGEST_SIZE]);

/* Reads the record at record_path and checks image_path against it. Returns
 * 0 if it matches, -EBADMSG on a mismatch, -EINVAL on a malformed record;
 * logs nothing (callers decide how bad that is). */
int checksum_verify_file(const char *record_path, const char *image_path);
