/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "fileio.h"
#include "flake.h"
#include "log.h"
#include "names.h"
#include "size.h"
#include "strv.h"
#include "utf8.h"

static const char * const engine_names[_FLAKE_ENGINE_MAX] = {
        [FLAKE_ENGINE_PODMAN] = "podman",
        [FLAKE_ENGINE_FIRECRACKER] = "firecracker",
};

DEFINE_STRING_TABLE_LOOKUP(flake_engine, FlakeEngine, engine_names, _FLAKE_ENGINE_INVALID);

const char *flake_engine_pilot(FlakeEngine e) {
        return e == FLAKE_ENGINE_PODMAN ? "podman-pilot" : "firecracker-pilot";
}

/* ---- schema ---- */

typedef enum KeyKind {
        KEY_SECTION,        /* a mapping of further keys */
        KEY_OPAQUE,         /* any value, interpreted elsewhere */
        KEY_STRING,
        KEY_PATH,           /* absolute path */
        KEY_BOOL,
        KEY_UINT,
        KEY_COUNT,          /* integer >= 1 */
        KEY_SIZE,
        KEY_LIST,           /* list of strings */
} KeyKind;

typedef struct KeySpec {
        const char *path;
        KeyKind kind;
        bool required;
        size_t offset;      /* into Flake; (size_t) -1: not stored */
        /* For strings and lists of strings: what each value must be, for
         * every reader (a pilot must not hand podman "--privileged" where
         * the image belongs, whoever wrote the file). */
        bool (*valid)(const char *value);
        const char *what;
} KeySpec;

static bool podman_option_is_valid(const char *s) {
        return !isempty(s) && text_check(s) == 0;
}

#define IMAGE_REF container_image_ref_is_valid, "image reference"
#define USER_NAME user_name_is_valid, "user name"
#define PODMAN_OPTION podman_option_is_valid, "podman option"

#define NOT_STORED ((size_t) -1)
#define F(field) offsetof(Flake, field)

static const KeySpec common_keys[] = {
        { "include",      KEY_SECTION, false, NOT_STORED },
        { "include.tar",  KEY_LIST,    false, F(include_tar) },
        { "include.path", KEY_LIST,    false, F(include_path) },
        /* Unit settings for the generated systemd units (generator/). */
        { "systemd",      KEY_OPAQUE,  false, NOT_STORED },
};

static const KeySpec container_keys[] = {
        { "container",                          KEY_SECTION, true,  NOT_STORED },
        { "container.name",                     KEY_STRING,  true,  F(image), IMAGE_REF },
        { "container.target_app_path",          KEY_STRING,  false, F(target_app_path) },
        { "container.host_app_path",            KEY_PATH,    false, F(host_app_path) },
        { "container.base_container",           KEY_STRING,  false, F(base_container), IMAGE_REF },
        { "container.check_host_dependencies",  KEY_BOOL,    false, F(check_host_dependencies) },
        { "container.layers",                   KEY_LIST,    false, F(layers), IMAGE_REF },
        { "container.runtime",                  KEY_SECTION, false, NOT_STORED },
        { "container.runtime.runas",            KEY_STRING,  false, F(runas), USER_NAME },
        { "container.runtime.resume",           KEY_BOOL,    false, F(resume) },
        { "container.runtime.attach",           KEY_BOOL,    false, F(attach) },
        { "container.runtime.agent",            KEY_BOOL,    false, F(agent) },
        { "container.runtime.podman",           KEY_LIST,    false, F(podman_opts), PODMAN_OPTION },
};

static const KeySpec vm_keys[] = {
        { "vm",                                          KEY_SECTION, true,  NOT_STORED },
        { "vm.name",                                     KEY_STRING,  true,  F(image) },
        { "vm.target_app_path",                          KEY_STRING,  false, F(target_app_path) },
        { "vm.host_app_path",                            KEY_PATH,    false, F(host_app_path) },
        { "vm.base_vm",                                  KEY_OPAQUE,  false, NOT_STORED },
        { "vm.layers",                                   KEY_OPAQUE,  false, NOT_STORED },
        /* Where flake-pull@ fetches the image from (helpers/pull/). */
        { "vm.pull",                                     KEY_OPAQUE,  false, NOT_STORED },
        { "vm.runtime",                                  KEY_SECTION, false, NOT_STORED },
        { "vm.runtime.runas",                            KEY_STRING,  false, F(runas), USER_NAME },
        { "vm.runtime.resume",                           KEY_BOOL,    false, F(resume) },
        { "vm.runtime.force_vsock",                      KEY_BOOL,    false, F(force_vsock) },
        /* One-shot calls restore a snapshot (flake-vm@.service(8)); on
         * unless false. */
        { "vm.runtime.snapshot",                         KEY_BOOL,    false, F(snapshot) },
        /* Network settings are interpreted by lib/net/network-config.c. */
        { "vm.runtime.network",                          KEY_OPAQUE,  false, NOT_STORED },
        /* firecracker | qemu: interpreted by lib/vm/vm-instance.c. */
        { "vm.runtime.vmm",                              KEY_OPAQUE,  false, NOT_STORED },
        /* kvm | tcg: interpreted by helpers/vm/flake-vm.c. */
        { "vm.runtime.qemu_accel",                       KEY_OPAQUE,  false, NOT_STORED },
        { "vm.runtime.firecracker",                      KEY_SECTION, false, NOT_STORED },
        { "vm.runtime.firecracker.boot_args",            KEY_LIST,    false, F(boot_args) },
        { "vm.runtime.firecracker.overlay_size",         KEY_SIZE,    false, F(overlay_size) },
        { "vm.runtime.firecracker.rootfs_image_path",    KEY_PATH,    true,  F(rootfs_image_path) },
        { "vm.runtime.firecracker.kernel_image_path",    KEY_PATH,    true,  F(kernel_image_path) },
        { "vm.runtime.firecracker.initrd_path",          KEY_PATH,    false, F(initrd_path) },
        { "vm.runtime.firecracker.mem_size_mib",         KEY_COUNT,   false, F(mem_size_mib) },
        { "vm.runtime.firecracker.vcpu_count",           KEY_COUNT,   false, F(vcpu_count) },
        { "vm.runtime.firecracker.cache_type",           KEY_STRING,  false, F(cache_type) },
        /* Per-instance boot_args, as upstream flake-pilot writes them
         * (flake-ctl firecracker volume --instance): interpreted by
         * lib/vm/vm-volumes.c. */
        { "vm.runtime.firecracker.instance",             KEY_OPAQUE,  false, NOT_STORED },
};

#undef F
#undef IMAGE_REF
#undef USER_NAME
#undef PODMAN_OPTION

typedef struct Checker {
        const YamlNode *root;
        const char *path;           /* main file, for problems without a node */
        FlakeDiagnostics *diag;
        const KeySpec *specs[3];
        size_t n_specs[3];
} Checker;

/* Appends msg (taken over) to list, keeping at most FLAKE_PROBLEMS_MAX. */
static void problem_add(char ***list, const char *file, char *msg) {
        size_t n_problems = strv_length(*list);

        if (n_problems >= FLAKE_PROBLEMS_MAX) {
                free(msg);
                if (n_problems == FLAKE_PROBLEMS_MAX)
                        strv_consume(list, xasprintf("%s: more than %u problems of this kind, the rest are not shown",
                                                     file, FLAKE_PROBLEMS_MAX));
                return;
        }
        strv_consume(list, msg);
}

void flake_problem(char ***list, const char *fallback_file, const YamlNode *n, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        if (n && n->file && n->line > 0)
                problem_add(list, fallback_file, xasprintf("%s:%u: %s", n->file, n->line, msg));
        else
                problem_add(list, fallback_file, xasprintf("%s: %s", fallback_file, msg));
}

#define ERROR(c, n, ...) flake_problem(&(c)->diag->errors, (c)->path, (n), __VA_ARGS__)
#define WARN(c, n, ...) flake_problem(&(c)->diag->warnings, (c)->path, (n), __VA_ARGS__)

/* The spec of prefix.key (or of key at the top, prefix NULL), compared in
 * place: this runs for every key of every flake. */
static const KeySpec *find_spec(const Checker *c, const char *prefix, const char *key) {
        size_t pl = prefix ? strlen(prefix) : 0;

        for (size_t t = 0; t < ELEMENTSOF(c->specs); t++)
                for (size_t i = 0; i < c->n_specs[t]; i++) {
                        const char *p = c->specs[t][i].path;
                        if (prefix && (strncmp(p, prefix, pl) != 0 || p[pl] != '.'))
                                continue;
                        if (streq(p + (prefix ? pl + 1 : 0), key))
                                return &c->specs[t][i];
                }
        return NULL;
}

/* Warns about keys of a section that no spec knows. */
static void check_unknown_keys(Checker *c, const YamlNode *n, const char *prefix) {
        for (size_t i = 0; i < n->n_items; i++) {
                const KeySpec *s = find_spec(c, prefix, n->keys[i]);

                if (!s) {
                        /* The original writes "vm: ~" into container flakes and
                         * vice versa; a null section of the other engine is fine. */
                        if (!prefix && (streq(n->keys[i], "vm") || streq(n->keys[i], "container")) &&
                            yaml_node_is_null(n->items[i]))
                                continue;
                        if (prefix)
                                WARN(c, n->items[i], "unknown key '%s.%s', ignoring", prefix, n->keys[i]);
                        else
                                WARN(c, n->items[i], "unknown key '%s', ignoring", n->keys[i]);
                } else if (s->kind == KEY_SECTION && n->items[i]->type == YAML_NODE_MAPPING)
                        check_unknown_keys(c, n->items[i], s->path);
        }
}

static void store_key(Checker *c, Flake *f, const KeySpec *s, const YamlNode *n) {
        void *field = s->offset == NOT_STORED ? NULL : (char *) f + s->offset;
        const char *str;
        unsigned long long u;
        char **list = NULL;
        int r = 0;

        switch (s->kind) {
        case KEY_SECTION:
                if (n->type != YAML_NODE_MAPPING)
                        ERROR(c, n, "'%s' must be a mapping, not a %s", s->path, yaml_type_to_string(n->type));
                return;
        case KEY_OPAQUE:
                return;
        case KEY_STRING:
        case KEY_PATH:
                r = yaml_node_get_string(n, &str);
                if (r < 0) {
                        ERROR(c, n, "'%s' must be a string, not a %s", s->path, yaml_type_to_string(n->type));
                        return;
                }
                if (s->kind == KEY_PATH && str[0] != '/') {
                        ERROR(c, n, "'%s' must be an absolute path: %s", s->path, str);
                        return;
                }
                if (s->valid && !s->valid(str)) {
                        ERROR(c, n, "'%s': '%s' is not a valid %s", s->path, str, s->what);
                        return;
                }
                *(char **) field = xstrdup(str);
                return;
        case KEY_BOOL:
                if (yaml_node_get_bool(n, (bool *) field) < 0)
                        ERROR(c, n, "'%s' must be true or false", s->path);
                return;
        case KEY_UINT:
        case KEY_COUNT:
                if (yaml_node_get_uint(n, &u) < 0 || (s->kind == KEY_COUNT && u == 0))
                        ERROR(c, n, "'%s' must be %s", s->path,
                              s->kind == KEY_COUNT ? "an integer of at least 1 (leave it out for the default)"
                                                   : "a non-negative integer");
                else
                        *(uint64_t *) field = u;
                return;
        case KEY_SIZE:
                if (n->type != YAML_NODE_SCALAR || parse_size(n->value, (uint64_t *) field) < 0)
                        ERROR(c, n, "'%s' is not a valid size (examples: 20GiB, 512MiB, 20G)", s->path);
                return;
        case KEY_LIST:
                if (yaml_node_get_string_list(n, &list) < 0) {
                        ERROR(c, n, "'%s' must be a list of strings", s->path);
                        return;
                }
                for (size_t i = 0; s->valid && i < (n->type == YAML_NODE_SEQUENCE ? n->n_items : 1); i++) {
                        const YamlNode *item = n->type == YAML_NODE_SEQUENCE ? n->items[i] : n;

                        if (!yaml_node_is_null(item) && !s->valid(item->value)) {
                                ERROR(c, item, "'%s': '%s' is not a valid %s", s->path, item->value, s->what);
                                strv_free(list);
                                return;
                        }
                }
                *(char ***) field = list;
                return;
        }
}

static void check_keys(Checker *c, Flake *f, const KeySpec *specs, size_t n_specs) {
        /* Consecutive specs mostly share their section: look it up once. */
        const char *last_path = NULL;
        size_t last_len = 0;
        const YamlNode *last_parent = NULL;

        for (size_t i = 0; i < n_specs; i++) {
                const KeySpec *s = &specs[i];
                const char *dot = strrchr(s->path, '.');
                size_t len = dot ? (size_t) (dot - s->path) : 0;
                const YamlNode *parent = c->root, *n;

                /* Skip keys below a section that is missing or malformed
                 * (that section already got its own error). */
                if (dot) {
                        if (!last_path || last_len != len || !strneq(last_path, s->path, len)) {
                                _cleanup_free_ char *parent_path = xstrndup(s->path, len);

                                last_parent = yaml_lookup(c->root, parent_path);
                                last_path = s->path;
                                last_len = len;
                        }
                        parent = last_parent;
                        if (!parent || parent->type != YAML_NODE_MAPPING) {
                                if (s->required && yaml_node_is_null(parent))
                                        ERROR(c, NULL, "required key '%s' is missing", s->path);
                                continue;
                        }
                }
                n = yaml_mapping_get(parent, dot ? dot + 1 : s->path);
                if (yaml_node_is_null(n)) {
                        if (s->required)
                                ERROR(c, n ? n : parent, "required key '%s' is missing", s->path);
                        continue;
                }
                if (s->offset != NOT_STORED || s->kind == KEY_SECTION)
                        store_key(c, f, s, n);
        }
}

Flake *flake_free(Flake *f) {
        if (!f)
                return NULL;
        free(f->name);
        free(f->path);
        yaml_document_free(f->doc);
        free(f->image);
        free(f->target_app_path);
        free(f->host_app_path);
        strv_free(f->include_tar);
        strv_free(f->include_path);
        free(f->runas);
        free(f->base_container);
        strv_free(f->layers);
        strv_free(f->podman_opts);
        strv_free(f->boot_args);
        free(f->rootfs_image_path);
        free(f->kernel_image_path);
        free(f->initrd_path);
        free(f->cache_type);
        free(f);
        return NULL;
}

void flake_diagnostics_done(FlakeDiagnostics *d) {
        d->errors = strv_free(d->errors);
        d->warnings = strv_free(d->warnings);
}

void flake_diagnostics_log(const FlakeDiagnostics *d) {
        STRV_FOREACH(w, d->warnings)
                log_warning("%s", *w);
        STRV_FOREACH(e, d->errors)
                log_error("%s", *e);
}

int flake_from_document(YamlDocument *doc, const char *name, const char *path,
                        Flake **ret, FlakeDiagnostics *diag) {
        _cleanup_(flake_freep) Flake *f = xmalloc(sizeof(Flake));
        Checker c = { .root = doc->root, .path = path, .diag = diag };
        const YamlNode *container, *vm;

        f->name = xstrdup(name);
        f->path = xstrdup(path);
        f->doc = doc;
        f->engine = _FLAKE_ENGINE_INVALID;

        /* What the loader found (tags it does not understand) comes first. */
        STRV_FOREACH(w, doc->warnings)
                problem_add(&diag->warnings, path, xstrdup(*w));

        if (!doc->root || doc->root->type != YAML_NODE_MAPPING) {
                ERROR(&c, doc->root, "expected a mapping with a 'container' or 'vm' section");
                return -EBADMSG;
        }

        container = yaml_mapping_get(doc->root, "container");
        vm = yaml_mapping_get(doc->root, "vm");
        if (!yaml_node_is_null(container) && !yaml_node_is_null(vm)) {
                ERROR(&c, vm, "a flake has either a 'container' or a 'vm' section, not both");
                return -EBADMSG;
        }
        if (yaml_node_is_null(container) && yaml_node_is_null(vm)) {
                ERROR(&c, doc->root, "neither a 'container' nor a 'vm' section");
                return -EBADMSG;
        }
        f->engine = yaml_node_is_null(vm) ? FLAKE_ENGINE_PODMAN : FLAKE_ENGINE_FIRECRACKER;

        c.specs[0] = common_keys;
        c.n_specs[0] = ELEMENTSOF(common_keys);
        if (f->engine == FLAKE_ENGINE_PODMAN) {
                /* Resumed containers run flake-agent unless told not to. */
                f->agent = true;
                c.specs[1] = container_keys;
                c.n_specs[1] = ELEMENTSOF(container_keys);
        } else {
                c.specs[1] = vm_keys;
                c.n_specs[1] = ELEMENTSOF(vm_keys);
        }

        check_unknown_keys(&c, doc->root, NULL);
        f->snapshot = true;
        for (size_t t = 0; t < 2; t++)
                check_keys(&c, f, c.specs[t], c.n_specs[t]);

        if (f->attach && f->resume)
                ERROR(&c, yaml_lookup(doc->root, "container.runtime.attach"),
                      "'resume' and 'attach' cannot both be true");
        if (f->cache_type && !streq(f->cache_type, "Writeback") && !streq(f->cache_type, "Unsafe"))
                ERROR(&c, yaml_lookup(doc->root, "vm.runtime.firecracker.cache_type"),
                      "'cache_type' must be Writeback or Unsafe, not %s", f->cache_type);
        if (strv_length(diag->errors) > 0)
                return -EBADMSG;

        *ret = TAKE_PTR(f);
        return 0;
}

char *flake_yaml_path(const char *dir, const char *name) {
        _cleanup_free_ char *f = xasprintf("%s.yaml", name);
        return path_join(dir, f);
}

char *flake_dropin_dir(const char *dir, const char *name) {
        _cleanup_free_ char *f = xasprintf("%s.d", name);
        return path_join(dir, f);
}

/* Merges the drop-in at path into doc; directories are not drop-ins. */
static int merge_dropin(YamlDocument *doc, const char *path, FlakeDiagnostics *diag) {
        _cleanup_free_ char *error = NULL;
        YamlDocument *d = NULL;

        if (is_dir(path))
                return 0;
        if (yaml_document_load(path, &d, &error) < 0) {
                strv_consume(&diag->errors, TAKE_PTR(error));
                return -EBADMSG;
        }
        if (yaml_document_merge(doc, d) < 0) {
                strv_consume(&diag->errors, xasprintf("%s: a drop-in must be a mapping of top-level sections", path));
                yaml_document_free(d);
                return -EBADMSG;
        }
        return 0;
}

static int load_merged(const char *dir, const char *name, bool has_dropins, YamlDocument **ret,
                       FlakeDiagnostics *diag) {
        _cleanup_free_ char *path = flake_yaml_path(dir, name), *dropins = flake_dropin_dir(dir, name);
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = yaml_document_load(path, &doc, &error);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                strv_consume(&diag->errors, TAKE_PTR(error));
                return -EBADMSG;
        }

        r = has_dropins ? dir_list(dropins, NULL, &files) : -ENOENT;
        if (r < 0 && r != -ENOENT) {
                strv_consume(&diag->errors, xasprintf("%s: cannot read drop-ins: %s", dropins, strerror(-r)));
                return -EBADMSG;
        }
        STRV_FOREACH(file, files) {
                _cleanup_free_ char *p = path_join(dropins, *file);

                r = merge_dropin(doc, p, diag);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(doc);
        return 0;
}

int flake_load(const char *dir, const char *name, Flake **ret, FlakeDiagnostics *diag) {
        return flake_load_listed(dir, name, true, ret, diag);
}

int flake_load_listed(const char *dir, const char *name, bool has_dropins, Flake **ret, FlakeDiagnostics *diag) {
        _cleanup_free_ char *path = flake_yaml_path(dir, name);
        FlakeDiagnostics local = {};
        YamlDocument *doc = NULL;
        int r;

        if (!diag)
                diag = &local;

        r = load_merged(dir, name, has_dropins, &doc, diag);
        if (r >= 0)
                r = flake_from_document(doc, name, path, ret, diag);   /* takes doc */

        if (diag == &local) {
                flake_diagnostics_log(&local);
                flake_diagnostics_done(&local);
        }
        return r;
}

static int compare_str(const void *a, const void *b) {
        return strcmp(*(const char * const *) a, *(const char * const *) b);
}

int flake_list(const char *dir, char ***ret_names, bool **ret_has_dropins) {
        _cleanup_strv_free_ char **files = NULL, **dropins = NULL;
        size_t n_files, n_names = 0, n_dropins = 0;
        char **names;
        int r;

        r = dir_list(dir, NULL, &files);
        if (r < 0 && r != -ENOENT)
                return r;
        /* (Filled by index: strv_consume() walks the list each time.) */
        n_files = strv_length(files);
        names = xmalloc((n_files + 1) * sizeof(char *));
        dropins = xmalloc((n_files + 1) * sizeof(char *));
        /* The name is everything before ".yaml" (the original cut at the
         * first dot, which broke apps such as python3.11). The names keep
         * the order of their file names. */
        STRV_FOREACH(f, files)
                if (endswith(*f, ".yaml"))
                        names[n_names++] = xstrndup(*f, strlen(*f) - strlen(".yaml"));
                else if (endswith(*f, ".d"))
                        dropins[n_dropins++] = xstrndup(*f, strlen(*f) - strlen(".d"));
        if (ret_has_dropins) {
                bool *has = xmalloc((n_names + 1) * sizeof(bool));

                qsort(dropins, n_dropins, sizeof(char *), compare_str);
                for (size_t i = 0; i < n_names; i++)
                        has[i] = bsearch(&names[i], dropins, n_dropins, sizeof(char *), compare_str);
                *ret_has_dropins = has;
        }
        *ret_names = names;
        return 0;
}

int flake_list_names(const char *dir, char ***ret) {
        return flake_list(dir, ret, NULL);
}

const char flake_template_container[] =
        "include:\n"
        "  tar: ~\n"
        "  path: ~\n"
        "container:\n"
        "  name: name\n"
        "  target_app_path: path/to/program/in/container\n"
        "  host_app_path: path/to/program/on/host\n"
        "  base_container: ~\n"
        "  check_host_dependencies: false\n"
        "  layers: ~\n"
        "  runtime:\n"
        "    runas: any\n"
        "    resume: false\n"
        "    attach: false\n"
        "    podman:\n"
        "      - \"-ti\"\n";

const char flake_template_firecracker[] =
        "include:\n"
        "  tar: ~\n"
        "  path: ~\n"
        "vm:\n"
        "  name: name\n"
        "  target_app_path: path/to/program/in/container\n"
        "  host_app_path: path/to/program/on/host\n"
        "  base_vm: ~\n"
        "  layers: ~\n"
        "  runtime:\n"
        "    runas: root\n"
        "    resume: false\n"
        "    force_vsock: false\n"
        "    firecracker:\n"
        "      boot_args:\n"
        "        - \"init=/usr/sbin/sci\"\n"
        "        - \"console=ttyS0\"\n"
        "        - \"root=/dev/vda\"\n"
        "        - \"acpi=off\"\n"
        "        - \"rd.neednet=1\"\n"
        "        - \"ip=dhcp\"\n"
        "        - \"quiet\"\n"
        "      overlay_size: ~\n"
        "      rootfs_image_path: ~\n"
        "      kernel_image_path: ~\n"
        "      initrd_path: ~\n"
        "      mem_size_mib: 4096\n"
        "      vcpu_count: 2\n"
        "      cache_type: ~\n";
