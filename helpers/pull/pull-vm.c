/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>

#include "checksum.h"
#include "download.h"
#include "fileio.h"
#include "image-file.h"
#include "inject.h"
#include "kis.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "paths.h"
#include "pull-vm.h"
#include "url-redact.h"
#include "registry.h"

#define PIPE_SIZE (1024 * 1024)

int vm_pull_request_check(const VmPullRequest *req, bool from_options) {
        const char *kis = from_options ? "--kis-image" : "vm.pull.kis_image";
        const char *rootfs = from_options ? "--rootfs" : "vm.pull.rootfs";
        const char *kernel = from_options ? "--kernel" : "vm.pull.kernel";
        const char *initrd = from_options ? "--initrd" : "vm.pull.initrd";
        const char *sha = from_options ? "--sha256" : "vm.pull.sha256";
        uint8_t d[SHA256_DIGEST_SIZE];

        if (isempty(req->name))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--name is required");
        /* Same rules as an app name: one path component, no leading dot
         * (our staging dirs are dot files). */
        if (!flake_app_name_is_valid(req->name))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid image name '%s': must be a plain file name", req->name);
        if (req->kis_image && (req->rootfs || req->kernel || req->initrd))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s conflicts with %s, %s and %s", kis, rootfs, kernel, initrd);
        if (!req->kis_image && !req->rootfs && !req->kernel && !req->initrd)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "One of %s or %s with %s is required", kis, rootfs, kernel);
        if (!req->kis_image && (!req->rootfs || !req->kernel))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s and %s require each other", rootfs, kernel);
        if (req->sha256 && sha256_from_hex(req->sha256, d) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: '%s' is not a SHA-256 digest (64 hex digits)", sha, req->sha256);
        return 0;
}

typedef struct PipeWriter {
        int fd;
        EVP_MD_CTX *md;
} PipeWriter;

static int pipe_sink(const void *data, size_t n, void *userdata) {
        PipeWriter *w = userdata;
        const uint8_t *p = data;

        if (w->md)
                EVP_DigestUpdate(w->md, data, n);
        while (n > 0) {
                ssize_t k = write(w->fd, p, n);
                if (k < 0) {
                        if (errno == EINTR && !pull_interrupted)
                                continue;
                        /* EPIPE: the reader stopped and reports why. */
                        return negative_errno();
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

typedef struct DownloadThread {
        const char *url;
        const char *label;
        const PullOptions *o;
        PipeWriter writer;
        int result;
} DownloadThread;

static void *download_thread(void *userdata) {
        DownloadThread *t = userdata;

        t->result = download(t->url, t->o, t->label, pipe_sink, &t->writer);
        /* EOF for the reader: the end of the body, or the point it broke. */
        close(TAKE_FD(t->writer.fd));
        return NULL;
}

static int check_digest(const char *what, const uint8_t got[SHA256_DIGEST_SIZE], const char *want_hex) {
        uint8_t want[SHA256_DIGEST_SIZE];
        char got_hex[SHA256_HEX_SIZE];

        if (!want_hex)
                return 0;
        if (sha256_from_hex(want_hex, want) < 0)
                return -EINVAL;         /* checked with the options */
        if (memcmp(got, want, sizeof(want)) == 0)
                return 0;
        sha256_to_hex(got, got_hex);
        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: SHA-256 mismatch: expected %s (--sha256), got %s",
                               what, want_hex, got_hex);
}

/* Download and unpacking run side by side: the download in a thread that
 * writes into a pipe, libarchive in this thread reading from it. A pull
 * then takes about as long as the slower of the two, and nothing but the
 * unpacked files touches the disk. */
static int pull_kis(const VmPullRequest *req, const PullOptions *o, Staging *s) {
        _cleanup_close_ int rfd = -EBADF;
        _cleanup_free_ char *label = xasprintf("%s (kis image)", req->name);
        /* Messages name the archive by its URL, never with its credentials. */
        _cleanup_free_ char *shown_url = url_redact(req->kis_image);
        KisExtraction x = { .source = shown_url, .dir_fd = s->fd, .dir_path = s->path, .max_size = o->max_size };
        DownloadThread t = { .url = req->kis_image, .label = label, .o = o, .writer.fd = -EBADF };
        uint8_t digest[SHA256_DIGEST_SIZE];
        sigset_t all, saved;
        pthread_t thread;
        int fds[2], r;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return log_error_errno(errno, "Failed to create a pipe: %m");
        rfd = fds[0];
        t.writer.fd = fds[1];
        (void) fcntl(rfd, F_SETPIPE_SZ, PIPE_SIZE);
        if (req->sha256) {
                t.writer.md = EVP_MD_CTX_new();
                if (!t.writer.md || EVP_DigestInit_ex(t.writer.md, EVP_sha256(), NULL) != 1)
                        abort();
        }

        /* Signals go to this thread only, so they interrupt its read(). */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &saved);
        r = -pthread_create(&thread, NULL, download_thread, &t);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0) {
                close(t.writer.fd);
                EVP_MD_CTX_free(t.writer.md);
                return log_error_errno(r, "Failed to start the download thread: %m");
        }

        r = kis_extract_fd(&x, rfd);
        /* Unblocks the writer (EPIPE) if we stopped early. */
        close(TAKE_FD(rfd));
        pthread_join(thread, NULL);

        if (t.result < 0 && t.result != -EPIPE)
                r = t.result;                   /* logged by download() */
        else if (r == -EBADMSG && x.read_error)
                log_error("%s", x.read_error);
        if (r >= 0 && pull_interrupted)
                r = -EINTR;
        if (r >= 0 && t.writer.md) {
                EVP_DigestFinal_ex(t.writer.md, digest, NULL);
                r = check_digest(req->kis_image, digest, req->sha256);
        }
        EVP_MD_CTX_free(t.writer.md);
        kis_extraction_done(&x);
        return r;
}

static int file_sink(const void *data, size_t n, void *userdata) {
        return image_file_append(userdata, data, n);
}

static int pull_component(const char *url, const PullOptions *o, Staging *s, const char *name,
                          uint8_t ret_digest[SHA256_DIGEST_SIZE]) {
        ImageFile f;
        int r;

        r = image_file_open(&f, s->fd, s->path, name, ret_digest != NULL);
        if (r >= 0)
                r = download(url, o, name, file_sink, &f);
        if (r >= 0)
                r = image_file_finish(&f, ret_digest);
        image_file_done(&f);
        return r;
}

/* sci and the mount points go into every pulled rootfs (inject.h). The
 * rootfs then differs from what was pulled: the pulled digest stays where
 * it was checked (the KIS record in "checksum", or --sha256), the installed
 * one is recorded in "checksum.installed", which later runs of flake-pull
 * check. A KIS rootfs that is not ext2/3/4 is kept as it is, with a warning
 * (it may carry our sci already); a component rootfs must be ext2/3/4, as
 * in the original. */
static int make_flake_ready(Staging *s, const char *url, bool kis) {
        _cleanup_free_ char *rootfs = path_join(s->path, "rootfs"), *record = path_join(s->path, CHECKSUM_INSTALLED);
        uint8_t d[SHA256_DIGEST_SIZE];
        char hex[SHA256_HEX_SIZE + 1];
        int r;

        r = rootfs_make_flake_ready(rootfs, url, flake_path(FLAKE_PATH_SCI), kis);
        if (r == -EMEDIUMTYPE && kis)
                return 0;
        if (r < 0)
                return r;
        r = sha256_file(rootfs, UINT64_MAX, d);
        if (r == -EINTR)
                return r;
        if (r < 0)
                return log_error_errno(r, "Failed to read back %s: %m", rootfs);
        sha256_to_hex(d, hex);
        strcat(hex, "\n");
        r = write_file_atomic(record, hex, strlen(hex), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", record);
        log_info("Installed sci and the mount points into the rootfs (its new digest is in %s)", CHECKSUM_INSTALLED);
        return 0;
}

static int pull_components(const VmPullRequest *req, const PullOptions *o, Staging *s) {
        uint8_t digest[SHA256_DIGEST_SIZE];
        int r;

        r = pull_component(req->rootfs, o, s, "rootfs", digest);
        if (r >= 0)
                r = check_digest(req->rootfs, digest, req->sha256);
        if (r >= 0)
                r = pull_component(req->kernel, o, s, "kernel", NULL);
        if (r >= 0 && req->initrd)
                r = pull_component(req->initrd, o, s, "initrd", NULL);
        if (r >= 0 && pull_interrupted)
                r = -EINTR;
        if (r >= 0)
                r = make_flake_ready(s, req->rootfs, false);
        return r;
}

int pull_vm(const VmPullRequest *req, const PullOptions *o) {
        Registry reg;
        Staging s = STAGING_NULL;
        const char *urls[] = { req->kis_image, req->rootfs, req->kernel, req->initrd };
        int r;

        /* Every URL is checked before anything is created or fetched. */
        for (size_t i = 0; i < ELEMENTSOF(urls); i++)
                if (urls[i]) {
                        r = download_check_url(urls[i], o);
                        if (r < 0)
                                return r;
                }

        r = registry_open(&reg, req->user);
        if (r >= 0)
                r = registry_check_absent(&reg, req->name, req->force);
        if (r >= 0)
                r = staging_new(&reg, req->name, &s);
        if (r >= 0)
                r = req->kis_image ? pull_kis(req, o, &s) : pull_components(req, o, &s);
        if (r >= 0 && req->kis_image && !pull_interrupted)
                r = make_flake_ready(&s, req->kis_image, true);
        if (r >= 0 && pull_interrupted)
                r = -EINTR;
        if (r >= 0)
                r = staging_install(&reg, &s, req->name, req->force);
        if (r >= 0)
                log_info("Image '%s' installed in %s/%s", req->name, reg.images, req->name);
        else if (r == -EINTR)
                log_error("Pull of '%s' interrupted; the registry is unchanged", req->name);

        staging_done(&s);
        registry_done(&reg);
        return r;
}
