/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "nfs-volume.h"
#include "strv.h"
#include "vm-volumes.h"

#define NFS_PREFIX NFS_VOLUME_BOOT_ARG "="

static bool has_volumes(char * const *args) {
        STRV_FOREACH(a, args)
                if (startswith(*a, NFS_PREFIX))
                        return true;
        return false;
}

static int fail(char **ret_error, char *error) {
        *ret_error = error;
        return -EBADMSG;
}

int vm_instance_boot_args(const Flake *f, const char *instance, char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **own = NULL, **l = NULL;
        const char *at = instance ? strchr(instance, '@') : NULL;

        if (at && f->doc) {
                YamlNode *section = yaml_mapping_get(yaml_lookup(f->doc->root, "vm.runtime.firecracker.instance"), at + 1);
                YamlNode *list = yaml_mapping_get(section, "boot_args");

                if (!yaml_node_is_null(list) && yaml_node_get_string_list(list, &own) < 0)
                        return fail(ret_error, xasprintf("%s: vm.runtime.firecracker.instance.%s.boot_args is not a list of strings",
                                                         f->path, at + 1));
        }
        STRV_FOREACH(a, f->boot_args)
                if (!has_volumes(own) || !startswith(*a, NFS_PREFIX))
                        strv_extend(&l, *a);
        strv_extend_strv(&l, own);

        STRV_FOREACH(a, l) {
                char buf[256];
                const char *problem;

                if (!startswith(*a, NFS_PREFIX))
                        continue;
                problem = nfs_volume_list_problem(*a + strlen(NFS_PREFIX), buf, sizeof(buf));
                if (problem)
                        return fail(ret_error, xasprintf("%s: boot argument " NFS_PREFIX ": %s", f->path, problem));
        }
        *ret = TAKE_PTR(l);
        *ret_error = NULL;
        return 0;
}

bool vm_instance_has_volumes(const Flake *f, const char *instance) {
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ char *error = NULL;

        return vm_instance_boot_args(f, instance, &args, &error) >= 0 && has_volumes(args);
}

char **vm_volumes(char * const *args) {
        char **l = NULL;

        STRV_FOREACH(a, args) {
                const char *p = startswith(*a, NFS_PREFIX);

                while (p && *p) {
                        size_t n = strcspn(p, ",");

                        if (n > 0)
                                strv_consume(&l, xstrndup(p, n));
                        p += n + (p[n] ? 1 : 0);
                }
        }
        return l;
}
