/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <ctype.h>
#include <openssl/evp.h>

#include "checksum.h"
#include "fileio.h"
#include "macro.h"
#include "pull.h"

int sha256_from_hex(const char *s, uint8_t ret[SHA256_DIGEST_SIZE]) {
        if (!s || strlen(s) != SHA256_DIGEST_SIZE * 2)
                return -EINVAL;
        for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++) {
                int hi = unhexchar(s[2 * i]), lo = unhexchar(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                ret[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

void sha256_to_hex(const uint8_t d[SHA256_DIGEST_SIZE], char ret[SHA256_HEX_SIZE]) {
        for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++)
                snprintf(ret + 2 * i, 3, "%02x", d[i]);
}

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int checksum_record_parse(const char *text, ChecksumRecord *ret) {
        _cleanup_free_ char *copy = xstrdup(text);
        char *fields[4] = {}, *save = NULL, *tok;
        size_t n = 0;
        ChecksumRecord rec = { .length = UINT64_MAX };
        uint64_t blocks, blocksize;

        for (tok = strtok_r(copy, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
                if (n >= ELEMENTSOF(fields))
                        return -EINVAL;
                fields[n++] = tok;
        }
        if (n != 1 && n != 3)
                return -EINVAL;
        if (sha256_from_hex(fields[0], rec.digest) < 0)
                return -EINVAL;
        if (n == 3) {
                if (parse_u64(fields[1], &blocks) < 0 || parse_u64(fields[2], &blocksize) < 0)
                        return -EINVAL;
                if (blocksize == 0 || blocks > UINT64_MAX / blocksize)
                        return -EINVAL;
                rec.length = blocks * blocksize;
        }
        *ret = rec;
        return 0;
}

static void md_ctx_freep(EVP_MD_CTX **p) {
        if (*p)
                EVP_MD_CTX_free(*p);
}

int sha256_file(const char *path, uint64_t length, uint8_t ret[SHA256_DIGEST_SIZE]) {
        _cleanup_(md_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = xmalloc(1024 * 1024);
        uint64_t left = length;

        if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        (void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

        while (left > 0) {
                ssize_t k;

                if (pull_interrupted)
                        return -EINTR;
                k = read(fd, buf, left < 1024 * 1024 ? (size_t) left : 1024 * 1024);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0) {
                        if (length != UINT64_MAX)
                                return -ERANGE;
                        break;
                }
                EVP_DigestUpdate(md, buf, (size_t) k);
                if (length != UINT64_MAX)
                        left -= (uint64_t) k;
        }
        if (EVP_DigestFinal_ex(md, ret, NULL) != 1)
                return -EIO;
        return 0;
}

int checksum_verify_file(const char *record_path, const char *image_path) {
        _cleanup_free_ char *text = NULL;
        ChecksumRecord rec;
        uint8_t d[SHA256_DIGEST_SIZE];
        int r;

        r = read_full_file(record_path, &text, NULL);
        if (r < 0)
                return r;
        if (checksum_record_parse(text, &rec) < 0)
                return -EINVAL;
        r = sha256_file(image_path, rec.length, d);
        if (r == -ERANGE)
                return -EBADMSG;
        if (r < 0)
                return r;
        return memcmp(d, rec.digest, sizeof(d)) == 0 ? 0 : -EBADMSG;
}
