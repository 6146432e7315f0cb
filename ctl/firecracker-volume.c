/* SPDX-License-Identifier: MIT */
/* flake-ctl firecracker volume add|remove: host directories a VM flake
 * mounts over NFS. As upstream flake-pilot, the volumes are one nfs= boot
 * argument (nfs-volume.h) in the flake's boot_args, or in those of one
 * instance (vm.runtime.firecracker.instance.NAME.boot_args), whose list
 * then takes the place of the flake's. The server is the host's address on
 * the flake's NAT network (vm.runtime.network), where the admin exports
 * the host paths. */

#include <getopt.h>

#include "ctl.h"
#include "in-addr.h"
#include "log.h"
#include "names.h"
#include "network-config.h"
#include "nfs-volume.h"
#include "registration.h"
#include "strv.h"
#include "vm-volumes.h"

#define NFS_PREFIX NFS_VOLUME_BOOT_ARG "="

typedef struct VolumeArgs {
        const char *app;
        const char *instance;           /* "@NAME" or NULL */
        char **volumes;                 /* HOST_PATH:GUEST_PATH */
} VolumeArgs;

typedef struct VolumeEdit {
        const VolumeArgs *args;
        const char *server;             /* add: the NFS server; remove: NULL */
        char ***messages;               /* what remove did, printed once written */
} VolumeEdit;

static void help_volume(void) {
        printf("Usage: flake-ctl firecracker volume add --app PATH|NAME [--instance NAME] HOST_PATH:GUEST_PATH...\n"
               "       flake-ctl firecracker volume remove --app PATH|NAME [--instance NAME] HOST_PATH:GUEST_PATH...\n\n"
               "The VM mounts HOST_PATH over NFS from the host's address on its network\n"
               "(flake-ctl firecracker network add) at GUEST_PATH. The admin exports HOST_PATH.\n"
               "See flake-ctl-firecracker-volume(8).\n");
}

/* "HOST:GUEST", both checked as sci and the loader check them. */
static int check_volume(const char *v) {
        const char *colon = strrchr(v, ':'), *problem;
        _cleanup_free_ char *host = NULL;

        if (!colon)
                return ctl_usage_error("volume: '%s' is not HOST_PATH:GUEST_PATH", v);
        host = xstrndup(v, colon - v);
        problem = nfs_volume_path_problem(host, false);
        if (problem)
                return ctl_usage_error("volume: '%s': the host path %s", v, problem);
        problem = nfs_volume_path_problem(colon + 1, true);
        if (problem)
                return ctl_usage_error("volume: '%s': the guest path %s", v, problem);
        return 0;
}

static int parse_args(int argc, char *argv[], VolumeArgs *a, char **ret_instance) {
        enum { ARG_APP = 0x100, ARG_INSTANCE };
        static const struct option options[] = {
                { "help",     no_argument,       NULL, 'h' },
                { "app",      required_argument, NULL, ARG_APP },
                { "instance", required_argument, NULL, ARG_INSTANCE },
                {}
        };
        int c, r;

        optind = 0;
        while ((c = ctl_getopt(argc, argv, "h", options)) >= 0)
                switch (c) {
                case 'h':
                        help_volume();
                        return 1;
                case ARG_APP:
                        a->app = optarg;
                        break;
                case ARG_INSTANCE:
                        free(*ret_instance);
                        *ret_instance = optarg[0] == '@' ? xstrdup(optarg) : xasprintf("@%s", optarg);
                        if (!flake_instance_name_is_valid(*ret_instance))
                                return ctl_usage_error("--instance: '%s' is not a valid instance name "
                                                       "(up to 64 letters, digits and '@=_-')", optarg);
                        a->instance = *ret_instance;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind >= argc)
                return ctl_usage_error("volume: give at least one HOST_PATH:GUEST_PATH");
        for (int i = optind; i < argc; i++) {
                r = check_volume(argv[i]);
                if (r < 0)
                        return r;
        }
        a->volumes = argv + optind;
        return 0;
}

/* The boot_args list a volume edit works on: the flake's, or the
 * instance's (created for add). NULL if remove finds none. */
static YamlNode *boot_args_node(YamlDocument *doc, const char *instance, bool create) {
        YamlNode *vm = doc->root ? yaml_mapping_get(doc->root, "vm") : NULL, *n;

        if (!vm || vm->type != YAML_NODE_MAPPING)
                return NULL;
        n = create ? yaml_mapping_ensure(vm, "runtime") : yaml_mapping_get(vm, "runtime");
        n = n ? (create ? yaml_mapping_ensure(n, "firecracker") : yaml_mapping_get(n, "firecracker")) : NULL;
        if (n && instance) {
                /* Keys without '@', as upstream writes them. */
                n = create ? yaml_mapping_ensure(n, "instance") : yaml_mapping_get(n, "instance");
                n = n ? (create ? yaml_mapping_ensure(n, instance + 1) : yaml_mapping_get(n, instance + 1)) : NULL;
        }
        return n;
}

/* "HOST:GUEST" of "SERVER:HOST:GUEST". */
static const char *entry_paths(const char *entry) {
        const char *colon = strchr(entry, ':');
        return colon ? colon + 1 : entry;
}

static int edit_volumes(YamlDocument *doc, const void *userdata) {
        const VolumeEdit *e = userdata;
        _cleanup_strv_free_ char **args = NULL, **entries = NULL, **kept = NULL;
        _cleanup_free_ char *joined = NULL, *where = NULL;
        YamlNode *holder = boot_args_node(doc, e->args->instance, e->server), *list;
        bool placed = false;

        if (!doc->root || !yaml_mapping_get(doc->root, "vm"))
                return -EINVAL;
        where = e->args->instance ? xasprintf("vm.runtime.firecracker.instance.%s", e->args->instance + 1)
                                  : xstrdup("vm.runtime.firecracker");
        if (!holder && e->server)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s is not a mapping", where);
        if (!holder) {          /* remove: nothing configured there */
                STRV_FOREACH(v, e->args->volumes)
                        strv_consume(e->messages, xasprintf("No volume %s configured.", *v));
                return 0;
        }
        list = yaml_mapping_get(holder, "boot_args");
        if (!yaml_node_is_null(list) && yaml_node_get_string_list(list, &args) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s.boot_args is not a list of strings", where);
        entries = vm_volumes(args);

        STRV_FOREACH(v, e->args->volumes) {
                char **out = NULL;
                bool found = false;

                STRV_FOREACH(x, entries)
                        if (streq(entry_paths(*x), *v)) {
                                found = true;
                                if (e->server)
                                        strv_consume(&out, xasprintf("%s:%s", e->server, *v));
                        } else
                                strv_extend(&out, *x);
                if (!found && e->server)
                        strv_consume(&out, xasprintf("%s:%s", e->server, *v));
                if (!e->server)
                        strv_consume(e->messages, xasprintf(found ? "Removed volume %s." : "No volume %s configured.", *v));
                strv_free(entries);
                entries = out;
        }

        /* The one nfs= argument keeps the place of the first. */
        joined = strv_join(entries, ",");
        STRV_FOREACH(a, args) {
                if (!startswith(*a, NFS_PREFIX))
                        strv_extend(&kept, *a);
                else if (!placed) {
                        placed = true;
                        if (!isempty(joined))
                                strv_consume(&kept, xasprintf(NFS_PREFIX "%s", joined));
                }
        }
        if (!placed && !isempty(joined))
                strv_consume(&kept, xasprintf(NFS_PREFIX "%s", joined));

        if (strv_length(kept) > 0)
                yaml_mapping_set(holder, "boot_args", yaml_node_new_string_list(kept));
        else if (e->args->instance)
                /* No empty instance section left behind (upstream drops it). */
                yaml_mapping_set(yaml_lookup(doc->root, "vm.runtime.firecracker.instance"),
                                 e->args->instance + 1, yaml_node_new(YAML_NODE_NULL));
        else
                yaml_mapping_set(holder, "boot_args", yaml_node_new(YAML_NODE_NULL));
        return 0;
}

/* The NFS server: the host's side of the flake's NAT network. */
static int volume_server(const Flake *f, const char *name, char **ret) {
        _cleanup_(network_config_freep) NetworkConfig *c = NULL;
        int r;

        r = network_config_from_flake(f, &c);
        if (r < 0)
                return ctl_failure(r);  /* logged with file and line */
        if (!c || c->mode != NETWORK_MODE_NAT)
                return log_error_errno(SYNTHETIC_ERRNO(ENONET),
                                       "%s has no NAT network, and its volumes come from the host's address on it: "
                                       "run 'flake-ctl firecracker network add %s' first.", name, name);
        *ret = in_addr_to_string(c->host_address.address);
        return 0;
}

static int volume_edit(Ctl *ctl, const VolumeArgs *a, bool add) {
        _cleanup_(flake_freep) Flake *f = NULL;
        _cleanup_free_ char *name = NULL, *server = NULL;
        _cleanup_strv_free_ char **messages = NULL;
        _cleanup_close_ int lock = -EBADF;
        int r;

        r = ctl_vm_flake_name("volume", a->app, &name);
        if (r < 0)
                return r;
        lock = ctl_lock_flakes_dir(ctl);
        if (lock < 0)
                return lock;
        r = ctl_load_vm_flake(ctl, name, "volumes", &f);
        if (r < 0)
                return ctl_failure(r);
        if (add) {
                r = volume_server(f, name, &server);
                if (r < 0)
                        return r;
        }
        r = ctl_edit_registration(ctl, name, edit_volumes,
                                  &(VolumeEdit) { .args = a, .server = server, .messages = &messages });
        if (r < 0)
                return ctl_failure(r);
        STRV_FOREACH(m, messages)
                puts(*m);
        STRV_FOREACH(v, a->volumes)
                if (add)
                        printf("%s%s: volume %s from %s:%.*s (export it there)\n", name, strempty(a->instance),
                               strrchr(*v, ':') + 1, server, (int) (strrchr(*v, ':') - *v), *v);
        return 0;
}

int verb_firecracker_volume(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_free_ char *instance = NULL;
        VolumeArgs a = {};
        const char *sub;
        int r;

        if (argc < 2)
                return ctl_usage_error("volume: missing command (add, remove)");
        if (streq(argv[1], "-h") || streq(argv[1], "--help")) {
                help_volume();
                return 0;
        }
        if (ctl_arg_is_version(argv[1]))
                return ctl_print_version();
        sub = argv[1];
        if (!streq(sub, "add") && !streq(sub, "remove"))
                return ctl_usage_error("volume: unknown command '%s' (add, remove)", sub);
        r = parse_args(argc - 1, argv + 1, &a, &instance);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!a.app)
                return ctl_usage_error("volume %s: --app is required", sub);

        r = ctl_load_config(ctl);
        if (r < 0)
                return r;
        return volume_edit(ctl, &a, streq(sub, "add"));
}
