/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include "build-config.h"
#include "ctl.h"
#include "fileio.h"
#include "flake-units.h"
#include "log.h"
#include "names.h"
#include "network-config.h"
#include "vm-volumes.h"
#include "paths.h"
#include "strv.h"
#include "utf8.h"
#include "vm-config.h"
#include "vm-instance.h"

/* verify's report is made of names, paths and values from files: one line
 * each, shown escaped. */
static void print_escaped(const char *prefix, const char *text, const char *suffix) {
        _cleanup_free_ char *e = text_escape_if_needed(text);

        printf("%s%s%s\n", prefix, e ?: text, suffix);
}

/* The NFS volumes (nfs=) of the flake and of each instance section. */
static void check_volumes(const Flake *f, FlakeDiagnostics *diag) {
        const YamlNode *instances = yaml_lookup(f->doc->root, "vm.runtime.firecracker.instance");
        _cleanup_strv_free_ char **names = NULL;

        strv_extend(&names, f->name);
        if (instances && instances->type == YAML_NODE_MAPPING)
                for (size_t i = 0; i < instances->n_items; i++) {
                        _cleanup_free_ char *at = xasprintf("@%s", instances->keys[i]);

                        if (!flake_instance_name_is_valid(at))
                                strv_consume(&diag->errors, xasprintf("%s: vm.runtime.firecracker.instance: '%s' is not an instance name",
                                                                      f->path, instances->keys[i]));
                        strv_consume(&names, xasprintf("%s%s", f->name, at));
                }
        else if (!yaml_node_is_null(instances))
                strv_consume(&diag->errors, xasprintf("%s: vm.runtime.firecracker.instance is not a mapping of instance names",
                                                      f->path));
        STRV_FOREACH(n, names) {
                _cleanup_strv_free_ char **args = NULL;
                char *error = NULL;

                if (vm_instance_boot_args(f, *n, &args, &error) < 0)
                        strv_consume(&diag->errors, error);
        }
}

/* Checks beyond the schema: what the flake refers to must exist. */
static void check_references(const Flake *f, FlakeDiagnostics *diag) {
        _cleanup_free_ char *pilot = flake_pilot_path(flake_engine_pilot(f->engine));

        if (f->host_app_path) {
                _cleanup_free_ char *link = flake_root_path(f->host_app_path);
                char target[4096];
                ssize_t n = readlink(link, target, sizeof(target) - 1);

                if (n < 0)
                        strv_consume(&diag->errors, xasprintf("%s: command %s is missing or not a symlink", f->path, link));
                else {
                        target[n] = 0;
                        if (!streq(target, pilot))
                                strv_consume(&diag->warnings, xasprintf("%s: command %s points to %s, not to %s",
                                                                        f->path, link, target, pilot));
                        else if (access(pilot, X_OK) < 0)
                                strv_consume(&diag->errors, xasprintf("%s: the pilot %s is not installed",
                                                                      f->path, pilot));
                }
        }

        const char *vm_files[] = { f->rootfs_image_path, f->kernel_image_path, f->initrd_path };
        /* Paths inside a registration are used as written, also under
         * FLAKE_ROOT (which only moves the project's own locations). */
        for (size_t i = 0; i < ELEMENTSOF(vm_files); i++)
                if (vm_files[i] && !path_exists(vm_files[i]))
                        strv_consume(&diag->errors, xasprintf("%s: image file %s does not exist", f->path, vm_files[i]));
        STRV_FOREACH(t, f->include_tar)
                if (!path_exists(*t))
                        strv_consume(&diag->errors, xasprintf("%s: include tar %s does not exist", f->path, *t));
        STRV_FOREACH(p, f->include_path)
                if (!path_exists(*p))
                        strv_consume(&diag->errors, xasprintf("%s: include path %s does not exist", f->path, *p));
}

/* QEMU's user-mode network under another VMM: the runner refuses it. */
static void check_user_network(const Flake *f, FlakeDiagnostics *diag) {
        _cleanup_(network_config_freep) NetworkConfig *c = NULL;
        VmmKind vmm;

        if (network_config_from_flake(f, &c) < 0 || !c || network_config_needs_tap(c))
                return;
        if (vm_flake_vmm(f, &vmm) >= 0 && vmm != VMM_QEMU)
                strv_consume(&diag->errors, xasprintf("%s: vm.runtime.network: mode user is QEMU's user-mode network, "
                                                      "but %s would run this flake (set vm.runtime.vmm: qemu)",
                                                      f->path, vmm_kind_to_string(vmm)));
}

/* What the VM runner would refuse at the first launch (the loader has
 * checked each value on its own already). */
static void check_vm(const Flake *f, FlakeDiagnostics *diag) {
        char *error = NULL;

        if (f->engine != FLAKE_ENGINE_FIRECRACKER)
                return;
        if (vm_spec_validate(&(VmSpec) { .vcpu_count = f->vcpu_count, .mem_size_mib = f->mem_size_mib,
                                         .cache_type = f->cache_type }, &error) < 0)
                strv_consume(&diag->errors, xasprintf("%s: vm.runtime.firecracker: %s", f->path, error));
        free(error);
        error = NULL;
        if (network_config_check_flake(f, &error) < 0)
                strv_consume(&diag->errors, error);
        else {
                free(error);
                check_user_network(f, diag);
        }
        check_volumes(f, diag);
}

/* What the generator would make of the flake: the same code, so that a
 * flake it would skip fails here too, and "why is my unit missing" has an
 * answer. With show, the files are listed. */
static void check_units(Ctl *ctl, const Flake *f, bool show, FlakeDiagnostics *diag) {
        const FlakeUnitsContext uc = {
                .user = ctl->user,
                .unit_dir = ctl->user ? USERUNITDIR : UNITDIR,
                .generator = "flake-ctl verify",
        };
        FlakeUnits units = {};

        if (flake_units_build(&uc, f, &units, diag) < 0)
                return;
        for (size_t i = 0; show && i < units.n_files; i++) {
                _cleanup_free_ char *line = xasprintf("%s%s%s", units.files[i].path,
                                                      units.files[i].target ? " -> " : "", strempty(units.files[i].target));
                print_escaped("  ", line, "");
        }
        if (show && units.n_files == 0)
                printf("  (nothing generated: its units are the templates as shipped)\n");
        flake_units_done(&units);
}

/* Prints every problem of one flake; returns the number of errors. */
static size_t verify_one(Ctl *ctl, const char *name, bool show_units) {
        _cleanup_(flake_freep) Flake *f = NULL;
        FlakeDiagnostics diag = {};
        size_t n_errors;
        int r;

        if (!flake_app_name_is_valid(name)) {
                print_escaped("", name, ": not a valid flake name");
                return 1;
        }
        r = flake_load(ctl->config.flakes_dir, name, &f, &diag);
        if (r == -ENOENT) {
                _cleanup_free_ char *p = flake_yaml_path(ctl->config.flakes_dir, name);
                strv_consume(&diag.errors, xasprintf("%s: no such registration", p));
        } else if (r >= 0) {
                check_references(f, &diag);
                check_vm(f, &diag);
                check_units(ctl, f, show_units, &diag);
        }

        STRV_FOREACH(w, diag.warnings)
                print_escaped("warning: ", *w, "");
        STRV_FOREACH(e, diag.errors)
                print_escaped("error: ", *e, "");
        n_errors = strv_length(diag.errors);
        if (n_errors == 0 && f) {
                _cleanup_free_ char *ok = xasprintf(": ok (%s)", flake_engine_to_string(f->engine));
                print_escaped("", name, ok);
        }
        flake_diagnostics_done(&diag);
        return n_errors;
}

int verb_verify(Ctl *ctl, int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "user", no_argument, NULL, 'u' },
                { "units", no_argument, NULL, 'U' },
                {}
        };
        _cleanup_strv_free_ char **names = NULL;
        size_t n_bad = 0, n = 0;
        bool show_units = false;
        int c, r;

        optind = 0;
        while ((c = ctl_getopt(argc, argv, "hu", options)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: flake-ctl verify [--user] [--units] [NAME...]\n\n"
                               "Check registrations (all, or the named ones) and print every problem\n"
                               "with its file and line, including those that make flake-generator skip\n"
                               "a flake. Exit status 1 if any flake has an error.\n\n"
                               "  --units   also list the unit files the generator makes of each flake\n");
                        return 0;
                case 'u':
                        ctl->user = true;
                        break;
                case 'U':
                        show_units = true;
                        break;
                default:
                        return -EINVAL;
                }

        r = ctl_load_config(ctl);
        if (r < 0)
                return ctl_failure(r);

        if (optind < argc)
                names = strv_copy(argv + optind);
        else {
                r = flake_list_names(ctl->config.flakes_dir, &names);
                if (r < 0)
                        return log_error_errno(r, "Failed to read %s: %m", ctl->config.flakes_dir);
        }

        STRV_FOREACH(name, names) {
                n++;
                if (verify_one(ctl, *name, show_units) > 0)
                        n_bad++;
        }
        _cleanup_free_ char *summary = xasprintf("%zu flake(s) checked in %s, %zu with errors",
                                                 n, ctl->config.flakes_dir, n_bad);
        print_escaped("", summary, "");
        return n_bad > 0 ? -EBADMSG : 0;
}
