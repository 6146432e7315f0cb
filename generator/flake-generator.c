/* SPDX-License-Identifier: MIT */
/* flake-generator: turns every registered flake into systemd units, by
 * instantiating the shipped templates with drop-ins and .wants/ symlinks.
 * See flake-generator(8) and systemd.generator(7).
 *
 * Generators run early and synchronously, on every boot and daemon-reload:
 * no bus, no network, nothing under /var; one malformed flake is logged and
 * skipped, the others are still generated; the exit status is non-zero only
 * when the output is incomplete because the output dir cannot be written. */

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

#include "build-config.h"
#include "config.h"
#include "fileio.h"
#include "flake-units.h"
#include "flake.h"
#include "log.h"
#include "paths.h"
#include "strv.h"

static bool arg_dry_run = false;
static bool arg_user = false;
static const char *arg_unit_dir = NULL;

static const char *program_name(const char *argv0) {
        const char *slash = strrchr(argv0, '/');
        return slash ? slash + 1 : argv0;
}

/* Creates the directories of path (relative to dfd), one level at a time.
 * Generators run on every boot and reload: keep the syscalls down by
 * remembering the last dirs made or used (the .wants/ dirs that many flakes
 * share stay among them; a drop-in dir is used once). */
#define MADE_DIRS 8
static char *made_dirs[MADE_DIRS];   /* most recently used first */

static void made_dirs_push(unsigned k, char *dir) {
        memmove(made_dirs + 1, made_dirs, k * sizeof(char *));
        made_dirs[0] = dir;
}

static bool dir_made(const char *dir) {
        for (unsigned k = 0; k < MADE_DIRS; k++)
                if (streq_ptr(made_dirs[k], dir)) {
                        made_dirs_push(k, made_dirs[k]);
                        return true;
                }
        return false;
}

static int mkdir_parents_at(int dfd, const char *path) {
        _cleanup_free_ char *dir = NULL;
        const char *slash = strrchr(path, '/');

        if (!slash)
                return 0;
        dir = xstrndup(path, (size_t) (slash - path));
        if (dir_made(dir))
                return 0;
        for (char *p = strchr(dir, '/');; p = strchr(p + 1, '/')) {
                if (p)
                        *p = 0;
                if (mkdirat(dfd, dir, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                if (!p)
                        break;
                *p = '/';
        }
        free(made_dirs[MADE_DIRS - 1]);
        made_dirs_push(MADE_DIRS - 1, TAKE_PTR(dir));
        return 0;
}

/* Writes path under a temporary name and renames it into place, so that a
 * unit is never seen half-written, even when two runs overlap (podman
 * #29004). The temporary name is unique per process. */
static char *temp_name(const char *path) {
        static pid_t pid;

        if (pid == 0)
                pid = getpid();
        return xasprintf("%s.tmp-%d", path, (int) pid);
}

static int write_unit_file(int dfd, const char *path, const char *data) {
        _cleanup_free_ char *tmp = temp_name(path);
        _cleanup_close_ int fd = -EBADF;
        size_t left = strlen(data);
        int r;

        r = mkdir_parents_at(dfd, path);
        if (r < 0)
                return r;
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 && errno == EEXIST) {
                /* A leftover of a killed earlier run with our pid. */
                (void) unlinkat(dfd, tmp, 0);
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        }
        if (fd < 0)
                return negative_errno();
        for (const char *p = data; left > 0;) {
                ssize_t n = write(fd, p, left);
                if (n < 0) {
                        r = negative_errno();
                        goto fail;
                }
                p += n;
                left -= (size_t) n;
        }
        if (renameat(dfd, tmp, dfd, path) < 0) {
                r = negative_errno();
                goto fail;
        }
        return 0;
fail:
        (void) unlinkat(dfd, tmp, 0);
        return r;
}

static int write_unit_symlink(int dfd, const char *path, const char *target) {
        _cleanup_free_ char *tmp = temp_name(path);
        int r;

        r = mkdir_parents_at(dfd, path);
        if (r < 0)
                return r;
        r = RET_NERRNO(symlinkat(target, dfd, tmp));
        if (r == -EEXIST) {
                (void) unlinkat(dfd, tmp, 0);
                r = RET_NERRNO(symlinkat(target, dfd, tmp));
        }
        if (r < 0)
                return r;
        if (renameat(dfd, tmp, dfd, path) < 0) {
                r = negative_errno();
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        return 0;
}

static int write_units(int dfd, const char *dest, const FlakeUnits *u) {
        int ret = 0;

        for (size_t i = 0; i < u->n_files; i++) {
                const FlakeUnitFile *file = &u->files[i];
                int r;

                if (file->content)
                        r = write_unit_file(dfd, file->path, file->content);
                else
                        r = write_unit_symlink(dfd, file->path, file->target);
                if (r < 0)
                        ret = log_error_errno(r, "Failed to write %s/%s: %m", dest, file->path);
        }
        return ret;
}

static void print_units(const FlakeUnits *u) {
        for (size_t i = 0; i < u->n_files; i++) {
                const FlakeUnitFile *file = &u->files[i];

                if (file->content)
                        printf("# %s\n%s\n", file->path, file->content);
                else
                        printf("# %s -> %s\n\n", file->path, file->target);
        }
}

static void print_diagnostics(const char *name, const FlakeDiagnostics *diag) {
        STRV_FOREACH(e, diag->errors)
                fprintf(stderr, "%s: error: %s\n", name, *e);
        STRV_FOREACH(w, diag->warnings)
                fprintf(stderr, "%s: warning: %s\n", name, *w);
}

/* One log line per skipped flake: the first problem, with its file and
 * line, and how many more there are. The dry run shows all of them. */
static void log_skipped(const char *name, const FlakeDiagnostics *diag, int r) {
        size_t n = strv_length(diag->errors);

        if (n == 0)
                log_error_errno(r, "Failed to load flake '%s', ignoring: %m", name);
        else if (n == 1)
                log_error("%s, ignoring flake '%s'.", diag->errors[0], name);
        else
                log_error("%s (and %zu more problems, see 'flake-generator --dry-run'), ignoring flake '%s'.",
                          diag->errors[0], n - 1, name);
}

/* Returns 1 when the flake was generated, 0 when it was skipped, a negative
 * errno when its units could not be written. */
static int generate_flake(const FlakeUnitsContext *ctx, const char *dir, const char *name,
                          bool has_dropins, int dfd, const char *dest) {
        _cleanup_(flake_freep) Flake *f = NULL;
        _cleanup_(flake_diagnostics_done) FlakeDiagnostics diag = {};
        _cleanup_(flake_units_done) FlakeUnits u = {};
        int r;

        r = flake_load_listed(dir, name, has_dropins, &f, &diag);
        if (r >= 0)
                r = flake_units_build(ctx, f, &u, &diag);

        if (arg_dry_run) {
                print_diagnostics(name, &diag);
                if (r < 0)
                        return 0;
                print_units(&u);
                return 1;
        }

        if (r < 0) {
                log_skipped(name, &diag, r);
                return 0;
        }
        STRV_FOREACH(w, diag.warnings)
                log_debug("%s", *w);

        r = write_units(dfd, dest, &u);
        if (r < 0)
                return r;
        log_debug("Generated units for flake '%s'.", name);
        return 1;
}

/* The flakes dir this manager's units come from, or NULL: nothing to do. */
static int find_flakes_dir(char **ret) {
        _cleanup_(flake_config_done) FlakeConfig config = {};
        const char *e = getenv("FLAKES_DIR");
        int r;

        if (!isempty(e)) {
                *ret = xstrdup(e);
                return 0;
        }

        if (arg_user) {
                /* Users without "flake-ctl init --user" have no flakes. */
                if (!path_exists(flake_user_config_path())) {
                        log_debug("%s does not exist, no user flakes.", flake_user_config_path());
                        *ret = NULL;
                        return 0;
                }
                r = flake_config_load_user(&config);
        } else
                r = flake_config_load_system(&config);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(config.flakes_dir);
        return 0;
}

static int run(const char *dest) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ bool *has_dropins = NULL;
        _cleanup_close_ int dfd = -EBADF;
        size_t n_generated = 0, n_skipped = 0;
        int r, ret = 0;

        FlakeUnitsContext ctx = {
                .user = arg_user,
                .unit_dir = arg_unit_dir,
                .generator = "flake-generator",
        };

        if (!arg_dry_run) {
                assert(dest);   /* main() passes one unless --dry-run */
                /* The one failure that is ours to report: without a usable
                 * output dir nothing can be generated. */
                r = mkdir_p(dest, 0755);
                if (r >= 0) {
                        dfd = open(dest, O_DIRECTORY | O_CLOEXEC | O_PATH);
                        if (dfd < 0 || access(dest, W_OK) < 0)
                                r = negative_errno();
                }
                if (r < 0)
                        return log_error_errno(r, "Output directory %s is not usable: %m", dest);
        }

        r = find_flakes_dir(&dir);
        if (r < 0) {
                /* Already logged; a broken flakes.yml is not a reason to
                 * fail the boot transaction's generator run. */
                log_error_errno(r, "Cannot read the flake configuration, no flake units generated.");
                return arg_dry_run ? r : 0;
        }
        if (!dir)
                return 0;

        r = flake_list(dir, &names, &has_dropins);
        if (r < 0) {
                log_error_errno(r, "Failed to list flakes in %s, no flake units generated: %m", dir);
                return arg_dry_run ? r : 0;
        }

        for (size_t i = 0; names[i]; i++) {
                r = generate_flake(&ctx, dir, names[i], has_dropins[i], dfd, dest);
                if (r < 0)
                        ret = r;
                else if (r == 0)
                        n_skipped++;
                else
                        n_generated++;
        }

        log_debug("%zu flakes in %s: %zu generated, %zu skipped.",
                  strv_length(names), dir, n_generated, n_skipped);
        if (arg_dry_run && n_skipped > 0)
                return -EBADMSG;
        return ret;
}

/* The system manager starts us before journald, with stdio on /dev/null: the
 * kernel log is the only place a message survives. Containers have no
 * /dev/kmsg; there, like systemd's own generators, use the console. */
static LogTarget generator_log_target(void) {
        _cleanup_close_ int fd = -EBADF;

        if (access("/dev/kmsg", W_OK) >= 0)
                return LOG_TARGET_KMSG;
        fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0 && fd != STDERR_FILENO)
                (void) dup2(fd, STDERR_FILENO);
        return LOG_TARGET_STDERR;
}

static void help(const char *prog) {
        printf("%s [OPTIONS] NORMAL_DIR [EARLY_DIR LATE_DIR]\n"
               "%s --dry-run\n\n"
               "Generates systemd units for the registered flakes (systemd.generator(7)).\n\n"
               "  -h --help       Show this help\n"
               "     --version    Show the version\n"
               "     --user       Generate for the user manager (default when called as\n"
               "                  a user generator, or with SYSTEMD_SCOPE=user)\n"
               "     --dry-run    Print what would be generated and every problem found\n",
               prog, prog);
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_DRY_RUN, ARG_USER };
        static const struct option options[] = {
                { "help",    no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "user",    no_argument, NULL, ARG_USER },
                {}
        };
        const char *prog = program_name(argv[0]);
        const char *scope = getenv("SYSTEMD_SCOPE");
        int c, r, n_dirs;

        /* Like quadlet: one binary, installed under both generator dirs. */
        arg_user = strstr(prog, "user") || streq_ptr(scope, "user");

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help(prog);
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        puts(PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case ARG_USER:
                        arg_user = true;
                        break;
                default:
                        return EXIT_FAILURE;
                }

        /* Run by hand, by a user manager (which sends stderr to its
         * journal) or for the dry run: stderr. */
        log_setup("flake-generator",
                  !arg_dry_run && !arg_user && scope ? generator_log_target() : LOG_TARGET_STDERR);

        n_dirs = argc - optind;
        if (arg_dry_run ? n_dirs != 0 : n_dirs != 1 && n_dirs != 3) {
                log_error("Expected one or three output directories%s, got %d.",
                          arg_dry_run ? " (none with --dry-run)" : "", n_dirs);
                return EXIT_FAILURE;
        }

        arg_unit_dir = getenv("FLAKE_UNIT_DIR");
        if (isempty(arg_unit_dir))
                arg_unit_dir = arg_user ? USERUNITDIR : UNITDIR;

        /* Everything goes into the normal dir: admins can still override a
         * generated drop-in with their own in /etc. */
        r = run(arg_dry_run ? NULL : argv[optind]);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
