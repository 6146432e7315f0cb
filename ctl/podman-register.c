/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "registration.h"
#include "spawn.h"
#include "strv.h"

typedef struct PodmanRegisterArgs {
        const char *container;
        const char *app;
        const char *target;
        const char *base;
        char **layers;
        char **include_tar;
        char **include_path;
        char **opts;
        bool check_host_dependencies;
        bool resume;
        bool no_agent;
        bool attach;
        bool info;
        bool force;
} PodmanRegisterArgs;

static void args_done(PodmanRegisterArgs *a) {
        strv_free(a->layers);
        strv_free(a->include_tar);
        strv_free(a->include_path);
        strv_free(a->opts);
}

static void help_register(void) {
        printf("Usage: flake-ctl podman [--user] register --container NAME --app PATH [OPTIONS]\n\n"
               "  --container NAME            image (or delta image with --base) in the flake image store\n"
               "  --app PATH                  absolute path of the host command to create\n"
               "  --target PATH               program inside the container (default: --app; '/' keeps the entrypoint)\n"
               "  --base NAME                 base image; --container is then a delta container\n"
               "  --layer NAME                extra image layered over the base (repeatable, in order)\n"
               "  --check-host-dependencies   provision host dependencies for a non-delta container\n"
               "  --include-tar FILE          tar archive unpacked into the instance (repeatable)\n"
               "  --include-path PATH         host file or directory copied into the instance (repeatable)\n"
               "  --resume                    keep one container, run each call in it (through its agent)\n"
               "  --no-agent                  with --resume: run each call with podman exec\n"
               "  --attach                    keep the container, attach to it on each call\n"
               "  --opt OPTION                podman create option (repeatable; replaces the default -ti;\n"
               "                              one leading '\\' is removed, so write \"\\--net host\")\n"
               "  --info                      print the image's own <name>.yaml and exit\n"
               "  --force                     replace an existing registration of --app\n");
}

static int parse_register(int argc, char *argv[], PodmanRegisterArgs *a) {
        enum { ARG_CONTAINER = 0x100, ARG_APP, ARG_TARGET, ARG_BASE, ARG_LAYER, ARG_CHECK_DEPS,
               ARG_INCLUDE_TAR, ARG_INCLUDE_PATH, ARG_RESUME, ARG_NO_AGENT, ARG_ATTACH, ARG_OPT, ARG_INFO,
               ARG_FORCE };
        static const struct option options[] = {
                { "help",                    no_argument,       NULL, 'h' },
                { "container",               required_argument, NULL, ARG_CONTAINER },
                { "app",                     required_argument, NULL, ARG_APP },
                { "target",                  required_argument, NULL, ARG_TARGET },
                { "base",                    required_argument, NULL, ARG_BASE },
                { "layer",                   required_argument, NULL, ARG_LAYER },
                { "check-host-dependencies", no_argument,       NULL, ARG_CHECK_DEPS },
                { "include-tar",             required_argument, NULL, ARG_INCLUDE_TAR },
                { "include-path",            required_argument, NULL, ARG_INCLUDE_PATH },
                { "resume",                  no_argument,       NULL, ARG_RESUME },
                { "no-agent",                no_argument,       NULL, ARG_NO_AGENT },
                { "attach",                  no_argument,       NULL, ARG_ATTACH },
                { "opt",                     required_argument, NULL, ARG_OPT },
                { "info",                    no_argument,       NULL, ARG_INFO },
                { "force",                   no_argument,       NULL, ARG_FORCE },
                {}
        };
        int c, r;

        optind = 0;
        while ((c = ctl_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h':
                        help_register();
                        return 1;
                case ARG_CONTAINER: a->container = optarg; break;
                case ARG_APP:       a->app = optarg; break;
                case ARG_TARGET:    a->target = optarg; break;
                case ARG_BASE:      a->base = optarg; break;
                case ARG_LAYER: {
                        _cleanup_strv_free_ char **v = NULL;

                        r = ctl_option_values(argc, argv, "--layer", &v);
                        if (r < 0)
                                return r;
                        strv_extend_strv(&a->layers, v);
                        break;
                }
                case ARG_CHECK_DEPS: a->check_host_dependencies = true; break;
                case ARG_INCLUDE_TAR:
                        r = ctl_add_include_values(argc, argv, &a->include_tar, "--include-tar", true);
                        if (r < 0)
                                return r;
                        break;
                case ARG_INCLUDE_PATH:
                        r = ctl_add_include_values(argc, argv, &a->include_path, "--include-path", false);
                        if (r < 0)
                                return r;
                        break;
                case ARG_RESUME:    a->resume = true; break;
                case ARG_NO_AGENT:  a->no_agent = true; break;
                case ARG_ATTACH:    a->attach = true; break;
                case ARG_OPT: {
                        _cleanup_strv_free_ char **v = NULL;

                        r = ctl_option_values(argc, argv, "--opt", &v);
                        if (r < 0)
                                return r;
                        /* The original strips one leading backslash so that
                         * options starting with "-" survive its argument parser. */
                        STRV_FOREACH(o, v) {
                                if ((*o)[0] == '\\') {
                                        r = ctl_check_value("--opt", *o + 1);
                                        if (r < 0)
                                                return r;
                                }
                                strv_extend(&a->opts, (*o)[0] == '\\' ? *o + 1 : *o);
                        }
                        break;
                }
                case ARG_INFO:      a->info = true; break;
                case ARG_FORCE:     a->force = true; break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return ctl_usage_error("register: unexpected argument '%s'", argv[optind]);
        if (!a->container)
                return ctl_usage_error("register: --container is required");
        /* An image where podman expects one: never an option (podman-pilot
         * puts it on the podman command line), never a typo podman would
         * only refuse at the first launch. */
        r = ctl_check_image("--container", a->container);
        if (r < 0)
                return r;
        if (a->info)
                return 0;
        if (!a->app)
                return ctl_usage_error("register: --app is required");
        r = ctl_check_app("--app", a->app, NULL);
        if (r < 0)
                return r;
        if (a->target && !path_is_absolute(a->target))
                return ctl_usage_error("--target: must be an absolute path (or '/' for the image entrypoint): %s", a->target);
        if (a->base) {
                r = ctl_check_image("--base", a->base);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(l, a->layers) {
                r = ctl_check_image("--layer", *l);
                if (r < 0)
                        return r;
        }
        if (a->layers && !a->base)
                return ctl_usage_error("--layer: layer(s) specified without a --base");
        if (a->resume && a->attach)
                return ctl_usage_error("--resume and --attach cannot be combined");
        if (a->no_agent && !a->resume)
                return ctl_usage_error("--no-agent: only a --resume container has an agent");
        if (a->resume && streq_ptr(a->target, "/"))
                return ctl_usage_error("--resume needs a --target program, not the image entrypoint '/'");
        return 0;
}

/* --info: print the <name>.yaml an image may carry in its root. */
static int show_image_info(Ctl *ctl, const char *container) {
        _cleanup_(podman_context_done) PodmanContext p = {};
        _cleanup_free_ char *out = NULL, *base = NULL, *file = NULL, *info = NULL;
        char *colon;
        int r;

        r = ctl_podman_context(ctl, &p);
        if (r < 0)
                return r;
        r = podman_waitl(&p, SPAWN_CAPTURE_STDOUT, &out, "image", "mount", container, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to run podman: %m");
        if (r > 0)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "podman image mount %s failed with status %d", container, r);
        out[strcspn(out, "\n")] = 0;

        /* "registry/ns/name:tag" -> "name" */
        base = path_basename(container);
        colon = strchr(base, ':');
        if (colon)
                *colon = 0;
        file = xasprintf("%s/%s.yaml", out, base);
        r = read_full_file(file, &info, NULL);
        (void) podman_waitl(&p, SPAWN_NULL_STDOUT, NULL, "image", "umount", container, NULL);
        if (r < 0)
                return log_error_errno(r, "No info file %s.yaml found in container %s", base, container);
        fputs(info, stdout);
        return 0;
}

static int build_podman_document(const PodmanRegisterArgs *a, YamlDocument **ret) {
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        _cleanup_free_ char *runas = ctl_caller_name();
        YamlNode *include, *container, *runtime;
        int r;

        r = ctl_load_template(FLAKE_ENGINE_PODMAN, &doc);
        if (r < 0)
                return r;

        include = yaml_mapping_ensure(doc->root, "include");
        container = yaml_mapping_ensure(doc->root, "container");
        runtime = container ? yaml_mapping_ensure(container, "runtime") : NULL;
        if (!include || !container || !runtime)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Template: include, container and container.runtime must be mappings");

        yaml_mapping_set(include, "tar", yaml_node_new_string_list(a->include_tar));
        yaml_mapping_set(include, "path", yaml_node_new_string_list(a->include_path));
        yaml_set_string(container, "name", a->container);
        yaml_set_string(container, "target_app_path", a->target ?: a->app);
        yaml_set_string(container, "host_app_path", a->app);
        yaml_set_string(container, "base_container", a->base);
        yaml_set_bool(container, "check_host_dependencies", a->check_host_dependencies);
        yaml_mapping_set(container, "layers", yaml_node_new_string_list(a->layers));
        yaml_set_string(runtime, "runas", runas);
        yaml_set_bool(runtime, "resume", a->resume);
        yaml_set_bool(runtime, "attach", a->attach);
        /* Written only when turned off: the default needs no key. */
        if (a->no_agent)
                yaml_set_bool(runtime, "agent", false);
        if (a->opts) {
                YamlNode *opts = yaml_node_new(YAML_NODE_SEQUENCE);
                STRV_FOREACH(o, a->opts)
                        yaml_sequence_append(opts, yaml_node_new_scalar(*o, true));
                yaml_mapping_set(runtime, "podman", opts);
        }
        *ret = TAKE_PTR(doc);
        return 0;
}

static int do_register(Ctl *ctl, const PodmanRegisterArgs *a) {
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        int r;

        r = ctl_load_config(ctl);
        if (r < 0)
                return r;
        if (a->info)
                return show_image_info(ctl, a->container);

        r = build_podman_document(a, &doc);
        if (r < 0)
                return r;
        r = ctl_register(ctl, FLAKE_ENGINE_PODMAN, a->app, a->force, doc);
        if (r < 0)
                return r;
        log_info("Registered %s (container %s)", a->app, a->container);
        return 0;
}

int verb_podman_register(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(args_done) PodmanRegisterArgs a = {};
        int r;

        r = parse_register(argc, argv, &a);
        if (r != 0)
                return r < 0 ? r : 0;
        return ctl_failure(do_register(ctl, &a));
}

static int purge_podman_image(Ctl *ctl, const char *image) {
        _cleanup_(podman_context_done) PodmanContext p = {};
        _cleanup_free_ char *what = xasprintf("podman image rm %s", image);
        char *args[] = { (char *) "image", (char *) "rm", (char *) "--force", (char *) "--ignore", (char *) "--", (char *) image, NULL };
        int r;

        r = ctl_podman_context(ctl, &p);
        if (r < 0)
                return r;
        return ctl_podman_run(&p, args, what, 1);
}

int verb_podman_remove(Ctl *ctl, int argc, char *argv[]) {
        return ctl_verb_remove(ctl, argc, argv, FLAKE_ENGINE_PODMAN, purge_podman_image);
}
