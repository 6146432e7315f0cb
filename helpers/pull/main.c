/* SPDX-License-Identifier: MIT */
/* flake-pull: fetches what flakes need. "flake-pull vm ..." is what
 * "flake-ctl firecracker pull" runs; "flake-pull flake INSTANCE" is what
 * flake-pull@.service runs. See flake-pull(8). */

#include <getopt.h>
#include <signal.h>

#include "build-config.h"
#include "download.h"
#include "log.h"
#include "macro.h"
#include "pull-flake.h"
#include "pull-vm.h"
#include "pull.h"
#include "size.h"

volatile sig_atomic_t pull_interrupted;

static void on_signal(int sig) {
        pull_interrupted = sig;
}

static unsigned env_uint(const char *name, unsigned def) {
        const char *e = getenv(name);
        char *end;
        unsigned long v;

        if (isempty(e))
                return def;
        errno = 0;
        v = strtoul(e, &end, 10);
        if (errno != 0 || *end != 0 || v > 1000000) {
                log_warning("Ignoring %s=%s: not a number", name, e);
                return def;
        }
        return (unsigned) v;
}

static int parse_max_size(const char *s, uint64_t *ret) {
        uint64_t v;

        if (parse_size(s, &v) < 0 || v == 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

void pull_options_from_env(PullOptions *o) {
        const char *ca = getenv("FLAKE_CA_BUNDLE"), *max = getenv("FLAKE_PULL_MAX_SIZE");

        /* Presence-based, as in the original tool. */
        o->allow_insecure = getenv("FLAKE_ALLOW_INSECURE_TRANSPORT") != NULL;
        o->retries = env_uint("FLAKE_PULL_RETRIES", 3);
        o->retry_delay_ms = env_uint("FLAKE_PULL_RETRY_DELAY_MS", 1000);
        o->ca_bundle = !isempty(ca) ? ca : NULL;
        o->max_size = PULL_MAX_SIZE_DEFAULT;
        if (!isempty(max) && parse_max_size(max, &o->max_size) < 0)
                log_warning("Ignoring FLAKE_PULL_MAX_SIZE=%s: not a size above 0 (like 64G)", max);
}

static void help(void) {
        printf("Usage: flake-pull vm [--user] --name NAME --kis-image URL [OPTIONS]\n"
               "       flake-pull vm [--user] --name NAME --rootfs URL --kernel URL [--initrd URL] [OPTIONS]\n"
               "       flake-pull flake APP[@ID]\n"
               "\n"
               "Fetches VM images into the firecracker registry, or everything a\n"
               "registered flake needs.\n"
               "\n"
               "Options (vm):\n"
               "  --name NAME         image name in the registry\n"
               "  --kis-image URL     KIWI kis archive (kernel, initrd, system)\n"
               "  --rootfs URL        root filesystem image (ext2/3/4)\n"
               "  --kernel URL        kernel image\n"
               "  --initrd URL        initrd image\n"
               "  --sha256 HEX        expected SHA-256 of the archive or the rootfs download\n"
               "  --force             replace an existing image\n"
               "  --user              pull into ~/.config/flakes/firecracker (non-root)\n"
               "  --allow-insecure    allow http:// URLs and redirects\n"
               "  --max-size SIZE     most a KIS archive may unpack to (default 32G)\n"
               "  -q, --quiet         no progress output\n"
               "  -h, --help          show this help\n"
               "\n"
               "See flake-pull(8).\n");
}

static int usage_error(const char *msg) {
        log_error("%s", msg);
        return -EINVAL;
}

static int verb_vm(int argc, char *argv[], PullOptions *o) {
        enum { ARG_NAME = 0x100, ARG_KIS, ARG_ROOTFS, ARG_KERNEL, ARG_INITRD, ARG_SHA256, ARG_FORCE, ARG_USER, ARG_INSECURE, ARG_MAX_SIZE };
        static const struct option options[] = {
                { "name",           required_argument, NULL, ARG_NAME },
                { "kis-image",      required_argument, NULL, ARG_KIS },
                { "rootfs",         required_argument, NULL, ARG_ROOTFS },
                { "kernel",         required_argument, NULL, ARG_KERNEL },
                { "initrd",         required_argument, NULL, ARG_INITRD },
                { "sha256",         required_argument, NULL, ARG_SHA256 },
                { "force",          no_argument,       NULL, ARG_FORCE },
                { "user",           no_argument,       NULL, ARG_USER },
                { "allow-insecure", no_argument,       NULL, ARG_INSECURE },
                { "max-size",       required_argument, NULL, ARG_MAX_SIZE },
                { "quiet",          no_argument,       NULL, 'q' },
                { "help",           no_argument,       NULL, 'h' },
                {}
        };
        VmPullRequest req = {};
        int c, r;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+:qh", options, NULL)) >= 0)
                switch (c) {
                case ARG_NAME:     req.name = optarg; break;
                case ARG_KIS:      req.kis_image = optarg; break;
                case ARG_ROOTFS:   req.rootfs = optarg; break;
                case ARG_KERNEL:   req.kernel = optarg; break;
                case ARG_INITRD:   req.initrd = optarg; break;
                case ARG_SHA256:   req.sha256 = optarg; break;
                case ARG_FORCE:    req.force = true; break;
                case ARG_USER:     req.user = true; break;
                case ARG_INSECURE: o->allow_insecure = true; break;
                case ARG_MAX_SIZE:
                        if (parse_max_size(optarg, &o->max_size) < 0) {
                                log_error("Invalid --max-size '%s': expected a size above 0, like 64G", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'q':          o->quiet = true; log_set_max_level(LOG_WARNING); break;
                case 'h':          help(); return 0;
                case ':':
                        log_error("Option '%s' needs a value", argv[optind - 1]);
                        return -EINVAL;
                default:
                        log_error("Unknown option '%s'", argv[optind - 1]);
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("Unexpected argument '%s'", argv[optind]);
                return -EINVAL;
        }
        r = vm_pull_request_check(&req, true);
        if (r < 0)
                return r;
        r = pull_vm(&req, o);
        return r == -EINVAL ? -EIO : r;         /* -EINVAL means usage error */
}

static int verb_flake(int argc, char *argv[], PullOptions *o) {
        int r;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                help();
                return 0;
        }
        if (argc != 2)
                return usage_error("Usage: flake-pull flake APP[@ID]");
        r = pull_flake(argv[1], o);
        return r == -EINVAL ? -EIO : r;         /* -EINVAL means usage error */
}

int main(int argc, char *argv[]) {
        struct sigaction sa = { .sa_handler = on_signal };
        PullOptions o = {};
        int r;

        /* Under flake-pull@ the journal directly: entries with FLAKE_NAME= etc. */
        log_setup("flake-pull", log_stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR);
        pull_options_from_env(&o);

        if (argc < 2)
                r = usage_error("Missing verb: vm or flake (see --help)");
        else if (streq(argv[1], "--help") || streq(argv[1], "-h")) {
                help();
                return 0;
        } else if (streq(argv[1], "--version")) {
                printf("flake-pull " PACKAGE_VERSION "\n");
                return 0;
        } else {
                /* No SA_RESTART: a blocked read() must return on Ctrl-C. */
                sigaction(SIGINT, &sa, NULL);
                sigaction(SIGTERM, &sa, NULL);
                sigaction(SIGHUP, &sa, NULL);
                signal(SIGPIPE, SIG_IGN);

                if (download_global_init() < 0)
                        return PULL_EXIT_FAILURE;
                if (streq(argv[1], "vm"))
                        r = verb_vm(argc - 1, argv + 1, &o);
                else if (streq(argv[1], "flake"))
                        r = verb_flake(argc - 1, argv + 1, &o);
                else {
                        log_error("Unknown verb '%s' (expected vm or flake)", argv[1]);
                        r = -EINVAL;
                }
        }

        if (pull_interrupted)
                return 128 + pull_interrupted;
        if (r == -EINVAL)
                return PULL_EXIT_USAGE;
        return r < 0 ? PULL_EXIT_FAILURE : 0;
}
