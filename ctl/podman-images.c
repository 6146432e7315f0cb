/* SPDX-License-Identifier: MIT */
/* flake-ctl podman pull|load: images into the flake image store. Pruning
 * dangling images happens here, after a successful pull or load, and never
 * on the pilot's launch path. */
#include <assert.h>
#include <getopt.h>
#include <sys/stat.h>

#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "podman.h"
#include "strv.h"

int ctl_podman_context(Ctl *ctl, PodmanContext *ret) {
        /* flake-ctl manages the store as the caller: rootful for root,
         * rootless for a user's own store. */
        int r = podman_context_init(ret, ctl->config.podman_storage_conf, geteuid() == 0 ? "root" : NULL);
        if (r == -ENOENT)
                return log_error_errno(r, "podman is not installed (not found in $PATH)");
        return r;
}

/* podman's reason for a failure: the last line it wrote ("Error: ..."). */
static const char *podman_reason(char *out) {
        char *last;

        podman_chomp(out);
        last = strrchr(out, '\n');
        last = last ? last + 1 : out;
        return startswith(last, "Error: ") ?: (isempty(last) ? "no message" : last);
}

int ctl_podman_run(const PodmanContext *p, char **args, const char *what, unsigned attempts) {
        int r;

        assert(attempts >= 1);
        for (unsigned attempt = 1;; attempt++) {
                _cleanup_free_ char *out = NULL;

                r = podman_wait(p, args, SPAWN_NULL_STDIN | SPAWN_CAPTURE_STDOUT | SPAWN_STDERR_TO_STDOUT, &out);
                if (r < 0)
                        return log_error_errno(r, "Cannot run podman: %m");
                if (r == 0)
                        return 0;
                if (attempt == attempts)
                        return log_error_errno(SYNTHETIC_ERRNO(EIO), "%s failed%s (status %d): %s",
                                               what, attempts > 1 ? " twice" : "", r, podman_reason(out));
                log_debug("%s failed with status %d (%s), trying once more", what, r, podman_reason(out));
        }
}

/* Runs podman args, once more if it fails (registries do hiccup), then
 * prunes dangling images. */
static int podman_with_retry(const PodmanContext *p, char **args, const char *what) {
        int r;

        r = ctl_podman_run(p, args, what, 2);
        if (r < 0)
                return r;
        (void) podman_waitl(p, SPAWN_NULL_STDOUT, NULL, "image", "prune", "--force", NULL);
        return 0;
}

static int parse_one_option(int argc, char *argv[], const char *opt, const char *usage, char **ret) {
        const struct option options[] = {
                { opt,    required_argument, NULL, 'a' },
                { "help", no_argument,       NULL, 'h' },
                {}
        };
        int c;

        optind = 0;
        *ret = NULL;
        while ((c = ctl_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'a':
                        *ret = optarg;
                        break;
                case 'h':
                        printf("%s\n", usage);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return ctl_usage_error("Unexpected argument '%s'", argv[optind]);
        if (!*ret)
                return ctl_usage_error("--%s is required", opt);
        return 1;
}

int verb_podman_pull(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(podman_context_done) PodmanContext p = {};
        _cleanup_free_ char *what = NULL;
        char *uri;
        int r;

        r = parse_one_option(argc, argv, "uri",
                             "Usage: flake-ctl podman pull --uri URI\n\n"
                             "Pull a container image into the flake image store.", &uri);
        if (r <= 0)
                return r;
        assert(uri);    /* parse_one_option() requires the option */
        /* podman pull also takes other transports; only the registry is
         * meant here, with or without its prefix. */
        if (!container_image_ref_is_valid(startswith(uri, "docker://") ?: uri))
                return ctl_usage_error("--uri: '%s' is not a valid image reference "
                                       "([docker://][REGISTRY[:PORT]/]NAME[:TAG][@DIGEST], NAME in lower case)", uri);
        r = ctl_load_config(ctl);
        if (r < 0)
                return ctl_failure(r);
        r = ctl_podman_context(ctl, &p);
        if (r < 0)
                return r;
        what = xasprintf("podman pull %s", uri);
        /* "--": whatever it is, the value is not an option of podman's. */
        r = podman_with_retry(&p, (char *[]) { (char *) "pull", (char *) "--", uri, NULL }, what);
        if (r < 0)
                return r;
        log_info("Pulled %s", uri);
        return 0;
}

/* The original's glob-prefix fallback: "load --oci app.tar" with no such
 * file takes the highest version of app.tar*. Versions compare as versions
 * (1.10 after 1.2), where the original sorted plain text. */
static int find_archive(const char *file, char **ret) {
        _cleanup_free_ char *dir = NULL, *prefix = NULL;
        _cleanup_strv_free_ char **names = NULL;
        const char *slash = strrchr(file, '/');
        const char *best = NULL;
        struct stat st;
        int r;

        if (stat(file, &st) >= 0) {
                if (!S_ISREG(st.st_mode))
                        return ctl_usage_error("--oci: %s is not a regular file", file);
                *ret = xstrdup(file);
                return 0;
        }
        dir = slash ? xstrndup(file, (size_t) (slash - file) + (slash == file)) : xstrdup(".");
        prefix = xstrdup(slash ? slash + 1 : file);
        /* An empty prefix ("dir/") would take any file of the directory. */
        if (isempty(prefix))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "--oci: %s: no such archive", file);
        r = dir_list(dir, NULL, &names);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "--oci: cannot read %s: %m", dir);
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *candidate = NULL;

                if (!startswith(*n, prefix) || (best && strverscmp(*n, best) <= 0))
                        continue;
                candidate = path_join(dir, *n);
                if (stat(candidate, &st) >= 0 && S_ISREG(st.st_mode))
                        best = *n;
        }
        if (!best)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "--oci: %s: no such archive (nor any %s*)", file, file);
        *ret = path_join(dir, best);
        return 0;
}

int verb_podman_load(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(podman_context_done) PodmanContext p = {};
        _cleanup_free_ char *archive = NULL, *what = NULL, *input = NULL;
        char *file;
        int r;

        r = parse_one_option(argc, argv, "oci",
                             "Usage: flake-ctl podman load --oci FILE\n\n"
                             "Load an OCI or docker archive into the flake image store. Without\n"
                             "FILE, the last of FILE* in sorted order is taken.", &file);
        if (r <= 0)
                return r;
        assert(file);   /* parse_one_option() requires the option */
        r = find_archive(file, &archive);
        if (r < 0)
                return r == -EINVAL ? r : ctl_failure(r);
        r = ctl_load_config(ctl);
        if (r < 0)
                return ctl_failure(r);
        r = ctl_podman_context(ctl, &p);
        if (r < 0)
                return r;
        what = xasprintf("podman load -i %s", archive);
        /* One argument: an archive named "-x" stays the value of --input. */
        input = xasprintf("--input=%s", archive);
        r = podman_with_retry(&p, (char *[]) { (char *) "load", input, NULL }, what);
        if (r < 0)
                return r;
        log_info("Loaded %s", archive);
        return 0;
}
