/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "names.h"
#include "paths.h"
#include "registration.h"
#include "strv.h"
#include "systemd-reload.h"
#include "vm-instance.h"

void ctl_reload_units(Ctl *ctl) {
        /* The registration is done either way; only the units lag behind. */
        if (flake_systemd_reload(ctl->user) < 0)
                log_warning("The units of this change appear after the next 'systemctl%s daemon-reload'.",
                            ctl->user ? " --user" : "");
}

int ctl_lock_flakes_dir(Ctl *ctl) {
        int r, fd;

        r = mkdir_p(ctl->config.flakes_dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create flakes directory %s: %m", ctl->config.flakes_dir);
        fd = lock_directory(ctl->config.flakes_dir);
        if (fd < 0)
                return log_error_errno(fd, "Failed to lock %s: %m", ctl->config.flakes_dir);
        return fd;
}

int ctl_check_app(const char *option, const char *app, char **ret_name) {
        _cleanup_free_ char *name = NULL;

        if (!path_is_absolute(app))
                return ctl_usage_error("%s: must be an absolute path: %s", option, app);
        /* The link is made and removed at exactly this path: no component may
         * make it mean another place (and "/.." would leave FLAKE_ROOT). */
        if (!path_is_normalized(app))
                return ctl_usage_error("%s: '%s' is not a normalized absolute path "
                                       "(no '.' or '..' components, no '//', no trailing '/')", option, app);
        name = path_basename(app);
        if (!flake_app_name_is_valid(name))
                return ctl_usage_error("%s: '%s' is not a valid application name "
                                       "(no '/', no '@', no leading '.', no spaces or control characters)", option, name);
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        return 0;
}

int ctl_vm_flake_name(const char *verb, const char *app, char **ret) {
        if (!app)
                return ctl_usage_error("%s: give the flake as NAME or --app PATH", verb);
        if (path_is_absolute(app))
                return ctl_check_app("--app", app, ret);
        if (!flake_app_name_is_valid(app))
                return ctl_usage_error("%s: '%s' is not a valid flake name", verb, app);
        *ret = xstrdup(app);
        return 0;
}

int ctl_load_vm_flake(Ctl *ctl, const char *name, const char *what, Flake **ret) {
        _cleanup_(flake_freep) Flake *f = NULL;
        int r;

        r = flake_load(ctl->config.flakes_dir, name, &f, NULL);
        if (r == -ENOENT)
                return log_error_errno(r, "No flake named '%s' is registered in %s.", name, ctl->config.flakes_dir);
        if (r < 0)
                return r;
        if (f->engine != FLAKE_ENGINE_FIRECRACKER)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "'%s' is a container flake; only VM flakes have %s.", name, what);
        *ret = TAKE_PTR(f);
        return 0;
}

int ctl_edit_registration(Ctl *ctl, const char *name, int (*edit)(YamlDocument *doc, const void *userdata),
                          const void *userdata) {
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        _cleanup_free_ char *path = flake_yaml_path(ctl->config.flakes_dir, name), *text = NULL, *err = NULL;
        int r;

        r = yaml_document_load(path, &doc, &err);
        if (r < 0)
                return log_error_errno(r, "%s", err ?: path);
        r = edit(doc, userdata);
        if (r == -EINVAL)
                return log_error_errno(r, "%s: not a VM flake (no 'vm' section)", path);
        if (r < 0)
                return r;
        r = yaml_document_dump(doc, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to serialise %s", path);
        r = write_file_atomic(path, text, strlen(text), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %s", path, strerror(-r));
        ctl_reload_units(ctl);
        return 0;
}

char *ctl_caller_name(void) {
        struct passwd *pw = getpwuid(getuid());
        return pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned) getuid());
}

void yaml_set_string(YamlNode *mapping, const char *key, const char *value) {
        yaml_mapping_set(mapping, key, value ? yaml_node_new_scalar(value, false) : yaml_node_new(YAML_NODE_NULL));
}

void yaml_set_bool(YamlNode *mapping, const char *key, bool value) {
        yaml_mapping_set(mapping, key, yaml_node_new_scalar(value ? "true" : "false", false));
}

int ctl_add_include(char ***list, const char *option, const char *value, bool regular_file) {
        struct stat st;

        if (!path_is_absolute(value))
                return ctl_usage_error("%s: must be an absolute path: %s", option, value);
        if (stat(value, &st) < 0)
                return ctl_usage_error("%s: %s: %s", option, value, strerror(errno));
        if (regular_file && !S_ISREG(st.st_mode))
                return ctl_usage_error("%s: %s is not a regular file", option, value);
        strv_extend(list, value);
        return 0;
}

int ctl_add_include_values(int argc, char *argv[], char ***list, const char *option, bool regular_file) {
        _cleanup_strv_free_ char **values = NULL;
        int r;

        r = ctl_option_values(argc, argv, option, &values);
        if (r < 0)
                return r;
        STRV_FOREACH(v, values) {
                r = ctl_add_include(list, option, *v, regular_file);
                if (r < 0)
                        return r;
        }
        return 0;
}

int ctl_load_template(FlakeEngine engine, YamlDocument **ret) {
        const char *file = engine == FLAKE_ENGINE_PODMAN ? "container-flake.yaml" : "firecracker-flake.yaml";
        const char *builtin = engine == FLAKE_ENGINE_PODMAN ? flake_template_container : flake_template_firecracker;
        _cleanup_free_ char *path = path_join(flake_path(FLAKE_PATH_TEMPLATE_DIR), file);
        _cleanup_free_ char *error = NULL;
        int r;

        r = yaml_document_load(path, ret, &error);
        if (r == -ENOENT)
                r = yaml_document_load_string("(built-in template)", builtin, strlen(builtin), ret, &error);
        if (r < 0)
                return log_error_errno(r, "Template: %s", error);
        if (!(*ret)->root || (*ret)->root->type != YAML_NODE_MAPPING) {
                yaml_document_free(*ret);
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Template %s: expected a mapping", path);
        }
        return 0;
}

static bool target_is_a_pilot(const char *target) {
        _cleanup_free_ char *base = path_basename(target);
        return streq(base, flake_engine_pilot(FLAKE_ENGINE_PODMAN)) ||
               streq(base, flake_engine_pilot(FLAKE_ENGINE_FIRECRACKER));
}

/* What may be removed at an app path is what register made there: a symlink
 * to the engine's pilot, or with force a symlink to any pilot (an older
 * installation's) or nothing. Directories, files and other programs' links
 * are never ours, whatever --force says. lstat(), so a link to a directory is
 * judged as a link. */
static int check_app_link(const char *link_path, FlakeEngine engine, bool force) {
        _cleanup_free_ char *pilot = flake_pilot_path(flake_engine_pilot(engine));
        char target[PATH_MAX];
        struct stat st;
        ssize_t n;

        if (lstat(link_path, &st) < 0) {
                if (errno == ENOENT && force)
                        return 0;
                if (errno == ENOENT)
                        return log_error_errno(errno, "%s does not exist; use --force to remove the registration anyway",
                                               link_path);
                return log_error_errno(errno, "%s: %m", link_path);
        }
        if (!S_ISLNK(st.st_mode))
                return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "%s is not a symlink to a flake pilot; refusing to remove it",
                                       link_path);
        n = readlink(link_path, target, sizeof(target) - 1);
        if (n < 0)
                return log_error_errno(errno, "%s: %m", link_path);
        target[n] = 0;
        if (streq(target, pilot))
                return 0;
        if (!target_is_a_pilot(target))
                return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "Symlink %s points to %s, not to a flake pilot; refusing to remove it",
                                       link_path, target);
        if (!force)
                return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "Symlink %s points to %s, not to %s; use --force to remove it anyway",
                                       link_path, target, pilot);
        return 0;
}

/* Everything remove checks before it changes anything: app is a valid
 * command path; without force its registration exists and is of this engine;
 * what is at the app path is ours to remove (check_app_link()). */
static int check_removal(Ctl *ctl, FlakeEngine engine, const char *app, bool force) {
        _cleanup_free_ char *name = NULL, *link_path = NULL, *yaml = NULL;
        int r;

        /* app may come from a registration's host_app_path, not only from
         * the command line: the same checks either way. */
        r = ctl_check_app("--app", app, &name);
        if (r < 0)
                return ctl_failure(r);
        link_path = flake_root_path(app);
        yaml = flake_yaml_path(ctl->config.flakes_dir, name);

        if (!force) {
                _cleanup_(flake_freep) Flake *f = NULL;
                FlakeDiagnostics diag = {};

                if (!path_exists(yaml))
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No registration found for %s (%s); use --force to remove leftovers",
                                               app, yaml);
                r = flake_load(ctl->config.flakes_dir, name, &f, &diag);
                flake_diagnostics_done(&diag);
                if (r >= 0 && f->engine != engine)
                        return log_error_errno(SYNTHETIC_ERRNO(EMEDIUMTYPE), "%s is a %s flake, not a %s flake",
                                               app, flake_engine_to_string(f->engine), flake_engine_to_string(engine));
        }
        return check_app_link(link_path, engine, force);
}

int ctl_remove_app(Ctl *ctl, FlakeEngine engine, const char *app, bool force) {
        _cleanup_free_ char *name = NULL, *link_path = NULL, *yaml = NULL, *dropins = NULL;
        int r;

        r = check_removal(ctl, engine, app, force);
        if (r < 0)
                return r;
        name = path_basename(app);
        link_path = flake_root_path(app);
        yaml = flake_yaml_path(ctl->config.flakes_dir, name);
        dropins = flake_dropin_dir(ctl->config.flakes_dir, name);

        /* The command goes first, so a partial removal never leaves a link
         * to a pilot without a registration behind it. unlink() never
         * removes a directory, should one have replaced the link since. */
        if (unlink(link_path) < 0 && errno != ENOENT)
                return log_error_errno(errno, "Failed to remove %s: %m", link_path);
        if (unlink(yaml) < 0 && errno != ENOENT)
                return log_error_errno(errno, "Failed to remove %s: %m", yaml);
        /* NAME.d below the flakes dir, NAME validated above; rm_rf() does
         * not follow links. */
        r = rm_rf(dropins);
        if (r < 0)
                return log_error_errno(r, "Failed to remove %s: %m", dropins);
        if (engine == FLAKE_ENGINE_FIRECRACKER) {
                /* Its one-shot snapshot (flake-vm@.service(8)) goes with it. */
                _cleanup_free_ char *snapshot = vm_snapshot_dir(ctl->user, name);

                r = rm_rf(snapshot);
                if (r < 0)
                        return log_error_errno(r, "Failed to remove %s: %m", snapshot);
        }
        return 0;
}

/* The commands of every registration of engine whose image is image. */
static int apps_of_image(Ctl *ctl, FlakeEngine engine, const char *image, char ***ret) {
        _cleanup_strv_free_ char **names = NULL, **apps = NULL;
        int r;

        r = flake_list_names(ctl->config.flakes_dir, &names);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", ctl->config.flakes_dir);
        STRV_FOREACH(name, names) {
                _cleanup_(flake_freep) Flake *f = NULL;
                FlakeDiagnostics diag = {};

                r = flake_load(ctl->config.flakes_dir, *name, &f, &diag);
                flake_diagnostics_done(&diag);
                if (r < 0 || f->engine != engine || !streq_ptr(f->image, image))
                        continue;
                if (!f->host_app_path) {
                        log_warning("%s: no host_app_path, cannot find its command; skipping", f->path);
                        continue;
                }
                strv_extend(&apps, f->host_app_path);
        }
        *ret = TAKE_PTR(apps);
        return 0;
}

int ctl_remove_image(Ctl *ctl, FlakeEngine engine, const char *image, CtlPurgeImage purge) {
        _cleanup_strv_free_ char **apps = NULL;
        int r;

        r = apps_of_image(ctl, engine, image, &apps);
        if (r < 0)
                return r;
        /* All or nothing: every registration must pass remove's checks, and
         * the image must go, before any registration is removed. */
        STRV_FOREACH(app, apps) {
                r = check_removal(ctl, engine, *app, false);
                if (r < 0)
                        return r;
        }
        r = purge(ctl, image);
        if (r < 0)
                return r;
        STRV_FOREACH(app, apps) {
                r = ctl_remove_app(ctl, engine, *app, false);
                if (r < 0)
                        return r;
                log_info("Removed %s", *app);
        }
        if (apps)
                ctl_reload_units(ctl);
        return 0;
}

/* Parses what we are about to write with the same code that will read it,
 * so a registration we write always loads. */
static int check_document(const char *yaml_path, const char *name, const char *text) {
        _cleanup_(flake_freep) Flake *f = NULL;
        FlakeDiagnostics diag = {};
        YamlDocument *doc = NULL;
        int r;

        r = yaml_document_load_string(yaml_path, text, strlen(text), &doc, NULL);
        if (r >= 0)
                r = flake_from_document(doc, name, yaml_path, &f, &diag);
        if (r < 0) {
                STRV_FOREACH(e, diag.errors)
                        log_error("Generated registration is invalid: %s", *e);
                if (!diag.errors)
                        log_error("Generated registration is invalid YAML");
        }
        flake_diagnostics_done(&diag);
        return r;
}

/* Removes the directories that mkdir_parents() made for link_path, deepest
 * first, up to the first one that existed before (rmdir() only: anything
 * someone put there since stays). */
static void remove_made_parents(const char *link_path, const char *existing) {
        _cleanup_free_ char *p = xstrdup(link_path);
        char *slash;

        while ((slash = strrchr(p, '/')) && slash != p) {
                *slash = 0;
                if (streq(p, existing))
                        break;
                /* Not made (too long, or not reached): look further up. */
                if (rmdir(p) < 0 && errno != ENOENT && errno != ENAMETOOLONG)
                        break;
        }
}

/* The deepest ancestor of path that exists (a new string). */
static char *existing_ancestor(const char *path) {
        _cleanup_free_ char *p = xstrdup(path);
        char *slash;

        while ((slash = strrchr(p, '/')) && slash != p) {
                *slash = 0;
                if (path_exists(p))
                        return TAKE_PTR(p);
        }
        return xstrdup("/");
}

int ctl_register(Ctl *ctl, FlakeEngine engine, const char *app, bool force, YamlDocument *doc) {
        _cleanup_free_ char *name = NULL, *link_path = NULL, *yaml = NULL, *dropins = NULL;
        _cleanup_free_ char *pilot = flake_pilot_path(flake_engine_pilot(engine));
        _cleanup_free_ char *text = NULL, *existing = NULL;
        _cleanup_close_ int lock = -EBADF;
        bool created_dropins = false;
        int r;

        r = ctl_check_app("--app", app, &name);
        if (r < 0)
                return r;
        link_path = flake_root_path(app);
        yaml = flake_yaml_path(ctl->config.flakes_dir, name);
        dropins = flake_dropin_dir(ctl->config.flakes_dir, name);

        /* Everything that can be refused is refused before anything is
         * changed, --force's removal included. */
        if (access(pilot, X_OK) < 0)
                return log_error_errno(errno, "The %s pilot %s is not installed: %m",
                                       flake_engine_to_string(engine), pilot);
        r = yaml_document_dump(doc, &text);
        if (r < 0)
                return log_error_errno(r, "Failed to serialise the registration: %m");
        r = check_document(yaml, name, text);
        if (r < 0)
                return r;

        lock = ctl_lock_flakes_dir(ctl);
        if (lock < 0)
                return lock;
        if (force) {
                /* Checks the link before it removes anything. */
                r = ctl_remove_app(ctl, engine, app, true);
                if (r < 0)
                        return r;
        }
        if (path_exists(link_path))
                return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "App path %s already exists", link_path);
        if (path_exists(yaml))
                return log_error_errno(SYNTHETIC_ERRNO(EEXIST),
                                       "A flake named '%s' is already registered (%s); use --force to replace it",
                                       name, yaml);

        r = write_file_atomic(yaml, text, strlen(text), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", yaml);

        if (mkdir(dropins, 0755) >= 0)
                created_dropins = true;
        else if (errno != EEXIST) {
                r = log_error_errno(errno, "Failed to create %s: %m", dropins);
                goto rollback;
        }

        existing = existing_ancestor(link_path);
        r = mkdir_parents(link_path, 0755);
        if (r < 0) {
                log_error_errno(r, "Failed to create the parent directory of %s: %m", link_path);
                goto rollback;
        }
        if (symlink(pilot, link_path) < 0) {
                r = log_error_errno(errno, "Failed to create %s: %m", link_path);
                goto rollback;
        }
        ctl_reload_units(ctl);
        return 0;

rollback:
        (void) unlink(yaml);
        if (created_dropins)
                (void) rmdir(dropins);
        if (existing)
                remove_made_parents(link_path, existing);
        return r;
}

int ctl_verb_remove(Ctl *ctl, int argc, char *argv[], FlakeEngine engine, CtlPurgeImage purge) {
        /* --container for podman, --vm for firecracker */
        const char *image_option = engine == FLAKE_ENGINE_PODMAN ? "container" : "vm";
        const struct option options[] = {
                { "help",       no_argument,       NULL, 'h' },
                { "app",        required_argument, NULL, 'a' },
                { image_option, required_argument, NULL, 'i' },
                { "force",      no_argument,       NULL, 'f' },
                {}
        };
        _cleanup_close_ int lock = -EBADF;
        const char *app = NULL, *image = NULL;
        bool force = false;
        int c, r;

        optind = 0;
        while ((c = ctl_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: flake-ctl %s [--user] remove (--app PATH | --%s NAME) [--force]\n\n"
                               "  --app PATH   remove the registration of this command\n"
                               "  --%-10s remove every registration of this image, and the image\n"
                               "  --force      with --app: remove whatever is left, without checks\n",
                               flake_engine_to_string(engine), image_option, image_option);
                        return 0;
                case 'a': app = optarg; break;
                case 'i': image = optarg; break;
                case 'f': force = true; break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return ctl_usage_error("remove: unexpected argument '%s'", argv[optind]);
        if (!!app == !!image)
                return ctl_usage_error("remove: exactly one of --app or --%s is required", image_option);
        if (app) {
                r = ctl_check_app("--app", app, NULL);
                if (r < 0)
                        return r;
        }
        if (image && engine == FLAKE_ENGINE_FIRECRACKER && !flake_app_name_is_valid(image))
                return ctl_usage_error("--vm: '%s' is not a valid image name", image);
        if (image && engine == FLAKE_ENGINE_PODMAN) {
                r = ctl_check_image("--container", image);
                if (r < 0)
                        return r;
        }

        r = ctl_load_config(ctl);
        if (r < 0)
                return ctl_failure(r);
        lock = ctl_lock_flakes_dir(ctl);
        if (lock < 0)
                return ctl_failure(lock);

        if (app) {
                r = ctl_remove_app(ctl, engine, app, force);
                if (r < 0)
                        return ctl_failure(r);
                log_info("Removed %s", app);
        } else {
                return ctl_failure(ctl_remove_image(ctl, engine, image, purge));
        }
        ctl_reload_units(ctl);
        return 0;
}
