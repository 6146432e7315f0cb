/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "paths.h"
#include "registration.h"
#include "size.h"
#include "strv.h"
#include "utf8.h"
#include "vm-bootargs.h"

typedef struct VmRegisterArgs {
        const char *vm;
        const char *app;
        const char *target;
        const char *run_as;
        const char *overlay_size;
        char **include_tar;
        char **include_path;
        bool resume;
        bool force_vsock;
        bool no_net;
        bool force;
} VmRegisterArgs;

static void args_done(VmRegisterArgs *a) {
        strv_free(a->include_tar);
        strv_free(a->include_path);
}

static void help_register(void) {
        printf("Usage: flake-ctl firecracker [--user] register --vm NAME --app PATH [OPTIONS]\n\n"
               "  --vm NAME              image name in the VM image registry\n"
               "  --app PATH             absolute path of the host command to create\n"
               "  --target PATH          program inside the VM (default: --app)\n"
               "  --run-as USER          stored as runtime.runas\n"
               "  --resume               keep the VM running; each call opens a session\n"
               "  --force-vsock          use the agent session even for one-shot VMs\n"
               "  --overlay-size SIZE    writable overlay per instance (20GiB, 512MiB, 20G, ...)\n"
               "  --no-net               drop every ip= boot argument\n"
               "  --include-tar FILE     tar archive unpacked into the overlay (needs --overlay-size)\n"
               "  --include-path PATH    host file or directory copied into the overlay (needs --overlay-size)\n"
               "  --force                replace an existing registration of --app\n");
}

static int parse_register(int argc, char *argv[], VmRegisterArgs *a) {
        enum { ARG_VM = 0x100, ARG_APP, ARG_TARGET, ARG_RUN_AS, ARG_RESUME, ARG_FORCE_VSOCK,
               ARG_OVERLAY_SIZE, ARG_NO_NET, ARG_INCLUDE_TAR, ARG_INCLUDE_PATH, ARG_FORCE };
        static const struct option options[] = {
                { "help",         no_argument,       NULL, 'h' },
                { "vm",           required_argument, NULL, ARG_VM },
                { "app",          required_argument, NULL, ARG_APP },
                { "target",       required_argument, NULL, ARG_TARGET },
                { "run-as",       required_argument, NULL, ARG_RUN_AS },
                { "resume",       no_argument,       NULL, ARG_RESUME },
                { "force-vsock",  no_argument,       NULL, ARG_FORCE_VSOCK },
                { "overlay-size", required_argument, NULL, ARG_OVERLAY_SIZE },
                { "no-net",       no_argument,       NULL, ARG_NO_NET },
                { "include-tar",  required_argument, NULL, ARG_INCLUDE_TAR },
                { "include-path", required_argument, NULL, ARG_INCLUDE_PATH },
                { "force",        no_argument,       NULL, ARG_FORCE },
                {}
        };
        uint64_t size;
        int c, r;

        optind = 0;
        while ((c = ctl_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h':
                        help_register();
                        return 1;
                case ARG_VM:           a->vm = optarg; break;
                case ARG_APP:          a->app = optarg; break;
                case ARG_TARGET:       a->target = optarg; break;
                case ARG_RUN_AS:       a->run_as = optarg; break;
                case ARG_RESUME:       a->resume = true; break;
                case ARG_FORCE_VSOCK:  a->force_vsock = true; break;
                case ARG_OVERLAY_SIZE: a->overlay_size = optarg; break;
                case ARG_NO_NET:       a->no_net = true; break;
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
                case ARG_FORCE:        a->force = true; break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return ctl_usage_error("register: unexpected argument '%s'", argv[optind]);
        if (!a->vm)
                return ctl_usage_error("register: --vm is required");
        if (!flake_app_name_is_valid(a->vm))
                return ctl_usage_error("--vm: '%s' is not a valid image name", a->vm);
        if (!a->app)
                return ctl_usage_error("register: --app is required");
        r = ctl_check_app("--app", a->app, NULL);
        if (r < 0)
                return r;
        if (a->target && !path_is_absolute(a->target))
                return ctl_usage_error("--target: must be an absolute path: %s", a->target);
        if (a->run_as && !user_name_is_valid(a->run_as))
                return ctl_usage_error("--run-as: '%s' is not a valid user name", a->run_as);
        /* Validated here, not at the first launch as the original did. */
        if (a->overlay_size && parse_size(a->overlay_size, &size) < 0)
                return ctl_usage_error("--overlay-size: '%s' is not a valid size (examples: 20GiB, 512MiB, 20G)",
                                       a->overlay_size);
        if ((a->include_tar || a->include_path) && !a->overlay_size)
                return ctl_usage_error("--include-tar/--include-path need --overlay-size: includes are written into the overlay");
        return 0;
}

static int build_vm_document(Ctl *ctl, const VmRegisterArgs *a, YamlDocument **ret) {
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        _cleanup_free_ char *image_dir = flake_vm_image_dir(ctl->user, a->vm);
        _cleanup_free_ char *rootfs = path_join(image_dir, "rootfs");
        _cleanup_free_ char *kernel = path_join(image_dir, "kernel");
        _cleanup_free_ char *initrd = path_join(image_dir, "initrd");
        _cleanup_strv_free_ char **boot_args = NULL;
        YamlNode *include, *vm, *runtime, *fc, *args;
        int r;

        /* The image paths go into the registration too, and with --user
         * they start with $HOME, which no option check has seen. */
        if (text_check(image_dir) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EILSEQ),
                                       "The VM image directory %s is not valid UTF-8 or contains control characters", image_dir);
        if (!path_exists(rootfs))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No rootfs image found: %s (pull the image first: flake-ctl firecracker pull)", rootfs);
        if (!path_exists(kernel))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No kernel image found: %s", kernel);

        r = ctl_load_template(FLAKE_ENGINE_FIRECRACKER, &doc);
        if (r < 0)
                return r;
        include = yaml_mapping_ensure(doc->root, "include");
        vm = yaml_mapping_ensure(doc->root, "vm");
        runtime = vm ? yaml_mapping_ensure(vm, "runtime") : NULL;
        fc = runtime ? yaml_mapping_ensure(runtime, "firecracker") : NULL;
        if (!include || !fc)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Template: include, vm, vm.runtime and vm.runtime.firecracker must be mappings");

        yaml_mapping_set(include, "tar", yaml_node_new_string_list(a->include_tar));
        yaml_mapping_set(include, "path", yaml_node_new_string_list(a->include_path));
        yaml_set_string(vm, "name", a->vm);
        yaml_set_string(vm, "target_app_path", a->target ?: a->app);
        yaml_set_string(vm, "host_app_path", a->app);
        if (a->run_as)
                yaml_set_string(runtime, "runas", a->run_as);
        yaml_set_bool(runtime, "resume", a->resume);
        yaml_set_bool(runtime, "force_vsock", a->force_vsock);

        args = yaml_mapping_get(fc, "boot_args");
        if (!yaml_node_is_null(args) && yaml_node_get_string_list(args, &boot_args) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Template: boot_args must be a list of strings");
        if (a->no_net) {
                _cleanup_strv_free_ char **kept = NULL;
                STRV_FOREACH(b, boot_args)
                        if (!startswith(*b, "ip="))
                                strv_extend(&kept, *b);
                strv_free(boot_args);
                boot_args = TAKE_PTR(kept);
        }
        /* sci reads these from the kernel command line. */
        vm_boot_args_add_mode(&boot_args, a->resume, a->force_vsock);
        YamlNode *list = yaml_node_new(YAML_NODE_SEQUENCE);
        STRV_FOREACH(b, boot_args)
                yaml_sequence_append(list, yaml_node_new_scalar(*b, true));
        yaml_mapping_set(fc, "boot_args", list);

        yaml_set_string(fc, "overlay_size", a->overlay_size);
        yaml_set_string(fc, "rootfs_image_path", rootfs);
        yaml_set_string(fc, "kernel_image_path", kernel);
        yaml_set_string(fc, "initrd_path", path_exists(initrd) ? initrd : NULL);
        *ret = TAKE_PTR(doc);
        return 0;
}

static int do_register(Ctl *ctl, const VmRegisterArgs *a) {
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        int r;

        r = ctl_load_config(ctl);
        if (r < 0)
                return r;
        r = build_vm_document(ctl, a, &doc);
        if (r < 0)
                return r;
        r = ctl_register(ctl, FLAKE_ENGINE_FIRECRACKER, a->app, a->force, doc);
        if (r < 0)
                return r;
        log_info("Registered %s (VM %s)", a->app, a->vm);
        return 0;
}

int verb_firecracker_register(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(args_done) VmRegisterArgs a = {};
        int r;

        r = parse_register(argc, argv, &a);
        if (r != 0)
                return r < 0 ? r : 0;
        return ctl_failure(do_register(ctl, &a));
}

static int purge_vm_image(Ctl *ctl, const char *image) {
        _cleanup_free_ char *image_dir = flake_vm_image_dir(ctl->user, image);
        int r;

        /* "Removed image" for an image that never was would hide a typo. */
        if (access(image_dir, F_OK) < 0 && errno == ENOENT)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No VM image '%s' (%s)", image, image_dir);
        r = rm_rf(image_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to remove %s: %m", image_dir);
        log_info("Removed image %s", image_dir);
        return 0;
}

int verb_firecracker_remove(Ctl *ctl, int argc, char *argv[]) {
        return ctl_verb_remove(ctl, argc, argv, FLAKE_ENGINE_FIRECRACKER, purge_vm_image);
}
