/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "strv.h"
#include "yaml-tree.h"

static const char * const config_keys[] = {
        "flakes_dir", "podman_ids_dir", "firecracker_ids_dir", "podman_storage_conf",
};

static char **config_field(FlakeConfig *c, size_t i) {
        char **fields[] = { &c->flakes_dir, &c->podman_ids_dir, &c->firecracker_ids_dir,
                            &c->podman_storage_conf };
        return fields[i];
}

void flake_config_done(FlakeConfig *c) {
        free(c->path);
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                free(*config_field(c, i));
        *c = (FlakeConfig) {};
}

/* Reads "generic" from path into c. Returns -ENOENT if the file is missing,
 * and sets *ret_missing to the number of keys the file did not set. */
static int config_parse(FlakeConfig *c, const char *path, bool prefix_root, size_t *ret_missing) {
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        _cleanup_free_ char *error = NULL;
        YamlNode *generic;
        size_t missing = 0;
        int r;

        r = yaml_document_load(path, &doc, &error);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return log_error_errno(r, "%s", error);
        STRV_FOREACH(w, doc->warnings)
                log_warning("%s", *w);

        if (doc->root && doc->root->type != YAML_NODE_MAPPING)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s:%u: expected a mapping with a 'generic' section",
                                       path, doc->root->line);
        generic = yaml_mapping_get(doc->root, "generic");
        if (generic && !yaml_node_is_null(generic) && generic->type != YAML_NODE_MAPPING)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s:%u: 'generic' must be a mapping", path, generic->line);

        for (size_t i = 0; generic && i < generic->n_items; i++) {
                bool known = false;
                for (size_t k = 0; k < ELEMENTSOF(config_keys); k++)
                        known = known || streq(generic->keys[i], config_keys[k]);
                if (!known)
                        log_warning("%s:%u: unknown key 'generic.%s', ignoring", path,
                                    generic->items[i]->line, generic->keys[i]);
        }

        for (size_t k = 0; k < ELEMENTSOF(config_keys); k++) {
                YamlNode *n = yaml_mapping_get(generic, config_keys[k]);
                const char *v;

                r = yaml_node_get_string(n, &v);
                if (r == -ENOENT) {
                        missing++;
                        continue;
                }
                if (r < 0 || !path_is_absolute(v))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s:%u: 'generic.%s' must be an absolute path",
                                               path, n->line, config_keys[k]);
                free(*config_field(c, k));
                *config_field(c, k) = prefix_root ? flake_root_path(v) : xstrdup(v);
        }

        free(c->path);
        c->path = xstrdup(path);
        if (ret_missing)
                *ret_missing = missing;
        return 0;
}

int flake_config_load_system(FlakeConfig *c) {
        const char *e;
        int r;

        *c = (FlakeConfig) {
                .flakes_dir = xstrdup(flake_path(FLAKE_PATH_FLAKES_DIR)),
                .podman_ids_dir = xstrdup(flake_path(FLAKE_PATH_IDS_DIR)),
                .firecracker_ids_dir = xstrdup(flake_path(FLAKE_PATH_IDS_DIR)),
                .podman_storage_conf = xstrdup(flake_path(FLAKE_PATH_STORAGE_CONF)),
        };

        r = config_parse(c, flake_path(FLAKE_PATH_CONFIG), true, NULL);
        if (r < 0 && r != -ENOENT) {
                flake_config_done(c);
                return r;
        }

        e = getenv("FLAKES_DIR");
        if (!isempty(e)) {
                free(c->flakes_dir);
                c->flakes_dir = xstrdup(e);
        }
        return 0;
}

int flake_config_load_user(FlakeConfig *c) {
        const char *path = flake_user_config_path();
        size_t missing = 0;
        int r;

        *c = (FlakeConfig) { .user = true };
        r = config_parse(c, path, false, &missing);
        if (r == -ENOENT || (r >= 0 && missing > 0)) {
                flake_config_done(c);
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                       "%s: %s; run 'flake-ctl init --user' to create the user setup",
                                       path, r == -ENOENT ? "not found" : "incomplete user configuration");
        }
        if (r < 0)
                flake_config_done(c);
        return r;
}

int flake_config_load(FlakeConfig *c, bool want_user) {
        if (want_user && getuid() != 0)
                return flake_config_load_user(c);
        return flake_config_load_system(c);
}

char *flake_config_user_template(const char *home, const FlakeConfig *system) {
        return xasprintf("generic:\n"
                         "  flakes_dir: %s/.config/flakes\n"
                         "  podman_ids_dir: %s\n"
                         "  firecracker_ids_dir: %s\n"
                         "  podman_storage_conf: %s/.config/flakes/podman/storage.conf\n",
                         home, system->podman_ids_dir, system->firecracker_ids_dir, home);
}
