/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <sys/stat.h>

#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "utf8.h"

static int write_unless_present(const char *path, const char *content, bool force) {
        int r;

        if (path_exists(path) && !force) {
                log_info("Keeping existing %s, use --force to overwrite it", path);
                return 0;
        }
        r = write_file_atomic(path, content, strlen(content), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", path);
        log_info("Wrote %s", path);
        return 0;
}

int verb_init(Ctl *ctl, int argc, char *argv[]) {
        static const struct option options[] = {
                { "help",  no_argument, NULL, 'h' },
                { "user",  no_argument, NULL, 'u' },
                { "force", no_argument, NULL, 'f' },
                {}
        };
        _cleanup_free_ char *base = NULL, *podman = NULL, *fc = NULL, *storage_conf = NULL;
        _cleanup_free_ char *config = NULL, *storage = NULL;
        FlakeConfig system = {};
        const char *home = flake_home_dir();
        bool force = false;
        int c, r;

        optind = 0;
        while ((c = ctl_getopt(argc, argv, "huf", options)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: flake-ctl init --user [--force]\n\n"
                               "Create ~/.config/flakes.yml, ~/.config/flakes/ and a podman storage.conf\n"
                               "for user registrations. --force overwrites existing files.\n");
                        return 0;
                case 'u':
                        ctl->user = true;
                        break;
                case 'f':
                        force = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return ctl_usage_error("init: unexpected argument '%s'", argv[optind]);

        if (!ctl->user || getuid() == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "init: only the user setup can be created (run as a normal user with --user); "
                                       "the system setup ships with the package");

        /* flakes.yml names the home directory; YAML cannot carry what is
         * not UTF-8, and the loader would refuse the file we wrote. */
        switch (text_check(home)) {
        case 0:
                break;
        case -EILSEQ:
                return log_error_errno(SYNTHETIC_ERRNO(EILSEQ),
                                       "init: the home directory %s is not valid UTF-8; flakes.yml cannot name it", home);
        default:
                return log_error_errno(SYNTHETIC_ERRNO(EILSEQ),
                                       "init: the home directory %s contains a control character; flakes.yml cannot name it", home);
        }

        r = flake_config_load_system(&system);
        if (r < 0)
                return ctl_failure(r);

        base = path_join(home, ".config/flakes");
        podman = path_join(base, "podman");
        fc = path_join(base, "firecracker");
        storage_conf = path_join(podman, "storage.conf");
        storage = path_join(podman, "storage");

        const char *dirs[] = { base, podman, fc };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = mkdir_p(dirs[i], 0755);
                if (r < 0) {
                        flake_config_done(&system);
                        return log_error_errno(r, "Failed to create %s: %m", dirs[i]);
                }
        }

        config = flake_config_user_template(home, &system);
        flake_config_done(&system);
        r = mkdir_parents(flake_user_config_path(), 0755);
        if (r >= 0)
                r = write_unless_present(flake_user_config_path(), config, force);
        if (r < 0)
                return r;

        _cleanup_free_ char *ini = xasprintf("[storage]\n"
                                             "driver = \"overlay\"\n"
                                             "graphroot = \"%s\"\n"
                                             "runroot = \"%s/runroot\"\n"
                                             "rootless_storage_path = \"%s\"\n",
                                             storage, storage, storage);
        r = write_unless_present(storage_conf, ini, force);
        if (r < 0)
                return r;

        log_info("User registrations go to %s", base);
        log_info("To use the flake image store with podman: export CONTAINERS_STORAGE_CONF=%s", storage_conf);
        return 0;
}
