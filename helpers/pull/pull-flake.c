/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>
#include <unistd.h>

#include "checksum.h"
#include "config.h"
#include "fileio.h"
#include "flake.h"
#include "flake-lookup.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "paths.h"
#include "pull-flake.h"
#include "pull-vm.h"
#include "registry.h"
#include "spawn.h"
#include "strv.h"

static void flake_config_donep(FlakeConfig *c) {
        flake_config_done(c);
}

static int podman_image_present(const char *image, const char *netdir, char **env) {
        char *argv[] = { (char *) "podman", (char *) netdir, (char *) "image", (char *) "exists", (char *) image, NULL };
        int r;

        r = spawn_wait(argv, env, SPAWN_NULL_STDIN | SPAWN_NULL_STDOUT, NULL);
        if (r == -ENOENT)
                return log_error_errno(r, "Cannot pull container images: podman is not installed");
        if (r < 0)
                return log_error_errno(r, "Failed to run podman: %m");
        /* 1 is "no such image"; anything else is podman failing. */
        if (r > 1)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "podman image exists %s failed with exit status %d", image, r);
        return r == 0;
}

static int pull_container_images(const Flake *f, const FlakeConfig *c, const PullOptions *o) {
        _cleanup_strv_free_ char **images = NULL, **env = NULL;
        int r;

        strv_extend(&images, f->image);
        if (f->base_container)
                strv_extend(&images, f->base_container);
        strv_extend_strv(&images, f->layers);
        /* Every podman command takes the netavark lock in its network
         * config dir, /etc/containers/networks, and creates the directory on
         * first use: read-only under flake-pull@ (ProtectSystem=strict), so
         * even "podman image exists" failed there. A pull needs no
         * network configuration: a directory of its own under /run. */
        _cleanup_free_ char *netdir = NULL, *state = NULL;

        if (c->user) {
                /* The user's own private state dir: /run/flakes is root's. */
                int fd = flake_instance_state_dir(c->podman_ids_dir, true, &state);
                if (fd < 0)
                        return fd;
                close(fd);
                netdir = xasprintf("--network-config-dir=%s/pull-networks", state);
        } else
                netdir = xasprintf("--network-config-dir=%s/pull-networks", flake_path(FLAKE_PATH_RUNTIME_DIR));

        /* The flake image store, as podman-pilot uses it. */
        strv_consume(&env, xasprintf("CONTAINERS_STORAGE_CONF=%s", c->podman_storage_conf));

        STRV_FOREACH(image, images) {
                char *argv[] = { (char *) "podman", netdir, (char *) "pull", (char *) (o->quiet ? "--quiet" : *image),
                                 o->quiet ? *image : NULL, NULL };

                r = podman_image_present(*image, netdir, env);
                if (r < 0)
                        return r;
                if (r > 0) {
                        log_info("Container image %s is present", *image);
                        continue;
                }
                r = spawn_wait(argv, env, SPAWN_NULL_STDIN, NULL);
                if (r < 0)
                        return log_error_errno(r, "Failed to run podman pull %s: %m", *image);
                if (r > 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EIO), "podman pull %s failed with exit status %d", *image, r);
                log_info("Container image %s pulled", *image);
        }
        return 0;
}

/* Present with rootfs and kernel, and matching its checksum record if it
 * has one: nothing to do. */
static bool vm_image_complete(const Registry *reg, const char *name) {
        _cleanup_free_ char *dir = registry_image_dir(reg, name);
        _cleanup_free_ char *rootfs = path_join(dir, "rootfs"), *kernel = path_join(dir, "kernel"),
                            *checksum = path_join(dir, CHECKSUM_INSTALLED);
        int r;

        if (access(rootfs, R_OK) < 0 || access(kernel, R_OK) < 0)
                return false;
        /* The rootfs as installed (with sci) has its own record; an image
         * pulled before there was one, or one left as pulled, has only the
         * KIS record. */
        if (access(checksum, F_OK) < 0) {
                free(checksum);
                checksum = path_join(dir, CHECKSUM_PULLED);
        }
        if (access(checksum, F_OK) < 0)
                return true;
        r = checksum_verify_file(checksum, rootfs);
        if (r < 0) {
                log_warning_errno(r, "Image %s does not match its checksum record (%s); pulling it again",
                                  dir, r == -EBADMSG ? "digest mismatch" : r == -EINVAL ? "malformed record" : strerror(-r));
                return false;
        }
        return true;
}

static int get_string(const YamlNode *pull, const char *key, const char **ret) {
        const YamlNode *n = yaml_mapping_get(pull, key);
        int r;

        *ret = NULL;
        r = yaml_node_get_string(n, ret);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "%s:%u: vm.pull.%s must be a string", strna(n->file), n->line, key);
        return 0;
}

static int pull_vm_flake(const Flake *f, bool user, const PullOptions *o) {
        static const char * const keys[] = { "kis_image", "rootfs", "kernel", "initrd", "sha256" };
        Registry reg;
        YamlNode *pull;
        VmPullRequest req = { .name = f->image, .force = true, .user = user };
        int r;

        if (isempty(f->image))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: vm.name is not set", f->path);
        r = registry_open(&reg, user);
        if (r >= 0 && vm_image_complete(&reg, f->image)) {
                log_info("Image %s/%s is present and verified", reg.images, f->image);
                registry_done(&reg);
                return 0;
        }
        registry_done(&reg);
        if (r < 0)
                return r;

        pull = yaml_lookup(f->doc->root, "vm.pull");
        if (yaml_node_is_null(pull))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                       "Image '%s' is not in the registry, and %s has no vm.pull section to fetch it from",
                                       f->image, f->path);
        if (pull->type != YAML_NODE_MAPPING)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s:%u: vm.pull must be a mapping", strna(pull->file), pull->line);
        for (size_t i = 0; i < pull->n_items; i++) {
                bool known = false;
                for (size_t j = 0; j < ELEMENTSOF(keys); j++)
                        known = known || streq(pull->keys[i], keys[j]);
                if (!known)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s:%u: unknown key vm.pull.%s",
                                               strna(pull->items[i]->file), pull->items[i]->line, pull->keys[i]);
        }
        if ((r = get_string(pull, "kis_image", &req.kis_image)) < 0 ||
            (r = get_string(pull, "rootfs", &req.rootfs)) < 0 ||
            (r = get_string(pull, "kernel", &req.kernel)) < 0 ||
            (r = get_string(pull, "initrd", &req.initrd)) < 0 ||
            (r = get_string(pull, "sha256", &req.sha256)) < 0)
                return r;
        r = vm_pull_request_check(&req, false);
        if (r < 0)
                return r;
        return pull_vm(&req, o);
}

int pull_flake(const char *instance, const PullOptions *o) {
        _cleanup_(flake_config_donep) FlakeConfig c = {};
        _cleanup_(flake_freep) Flake *f = NULL;
        _cleanup_free_ char *app = NULL, *searched = NULL;
        const char *at = strchr(instance, '@');
        int r;

        app = at ? xstrndup(instance, (size_t) (at - instance)) : xstrdup(instance);
        if (!flake_app_name_is_valid(app) || (at && !flake_instance_name_is_valid(at)))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid flake instance '%s'", instance);

        /* The flake a launch of this user would run (flake-lookup.h): its
         * images go where that launch looks for them. */
        r = flake_lookup(app, &c, &f, NULL, &searched);
        if (r == -ENOENT)
                return log_error_errno(r, "No flake '%s' is registered in %s", app, searched);
        if (r < 0)
                return r;               /* every problem is logged */

        log_set_context(app, flake_engine_to_string(f->engine), instance);
        if (f->engine == FLAKE_ENGINE_PODMAN)
                return pull_container_images(f, &c, o);
        return pull_vm_flake(f, c.user, o);
}
