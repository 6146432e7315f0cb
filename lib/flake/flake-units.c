/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdarg.h>

#include "flake-units.h"
#include "log.h"
#include "names.h"
#include "strv.h"

/* systemd refuses unit names of 256 bytes and more (UNIT_NAME_MAX). */
#define UNIT_NAME_MAX 256

typedef struct Settings {
        bool pull_at_boot;
        bool start_at_boot;
        char **service;         /* "Key=value" lines for [Service] */
        const YamlNode *limits_node;    /* first limit, for warnings */
        const YamlNode *start_node;
        const YamlNode *pull_node;
} Settings;

static void settings_done(Settings *s) {
        s->service = strv_free(s->service);
}


/* ---- value checks: catch typos here, with file and line, rather than as a
 * unit that systemd loads with a warning buried in the journal ---- */

static const char *skip_number(const char *p, bool allow_fraction) {
        const char *s = p;

        while (isdigit((unsigned char) *p))
                p++;
        if (p == s)
                return NULL;
        if (allow_fraction && *p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return NULL;
                while (isdigit((unsigned char) *p))
                        p++;
        }
        return p;
}

static bool is_percent(const char *v) {
        const char *p = skip_number(v, true);
        return p && streq(p, "%");
}

static bool is_uint(const char *v) {
        const char *p = skip_number(v, false);
        return p && *p == 0;
}

/* "2G", "512M", "1073741824", "50%", "infinity" (MemoryMax= and friends). */
static bool valid_memory(const char *v) {
        const char *p;

        if (streq(v, "infinity") || is_percent(v))
                return true;
        p = skip_number(v, true);
        if (!p)
                return false;
        return *p == 0 || (strchr("KMGTPE", *p) && p[1] == 0);
}

static bool valid_cpu_quota(const char *v) {
        return is_percent(v);
}

static bool valid_weight(const char *v) {
        return is_uint(v) && strlen(v) <= 5 && atoi(v) >= 1 && atoi(v) <= 10000;
}

static bool valid_cpu_weight(const char *v) {
        return streq(v, "idle") || valid_weight(v);
}

static bool valid_tasks(const char *v) {
        return streq(v, "infinity") || is_uint(v) || is_percent(v);
}

static bool valid_nice(const char *v) {
        const char *p = v[0] == '-' || v[0] == '+' ? v + 1 : v;
        return is_uint(p) && strlen(p) <= 2 && atoi(v) >= -20 && atoi(v) <= 19;
}

typedef struct LimitSpec {
        const char *key;        /* YAML key, spelled as the unit setting */
        bool (*valid)(const char *v);
        const char *expected;
} LimitSpec;

static const LimitSpec limit_specs[] = {
        { "MemoryMax",     valid_memory,     "a size such as 2G, a percentage or infinity" },
        { "MemoryHigh",    valid_memory,     "a size such as 2G, a percentage or infinity" },
        { "MemorySwapMax", valid_memory,     "a size such as 2G, a percentage or infinity" },
        { "CPUQuota",      valid_cpu_quota,  "a percentage such as 150%" },
        { "CPUWeight",     valid_cpu_weight, "a number from 1 to 10000, or idle" },
        { "TasksMax",      valid_tasks,      "a number, a percentage or infinity" },
        { "IOWeight",      valid_weight,     "a number from 1 to 10000" },
        { "Nice",          valid_nice,       "a number from -20 to 19" },
};

static const LimitSpec *find_limit(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(limit_specs); i++)
                if (streq(limit_specs[i].key, key))
                        return &limit_specs[i];
        return NULL;
}

static void parse_bool_setting(const Flake *f, FlakeDiagnostics *diag, const YamlNode *v,
                               const char *key, bool *ret) {
        int r = yaml_node_get_bool(v, ret);
        if (r == -EINVAL)
                flake_problem(&diag->errors, f->path, v, "systemd.%s: expected true or false", key);
}

static void parse_settings(const Flake *f, FlakeDiagnostics *diag, Settings *s) {
        const YamlNode *n = f->doc ? yaml_mapping_get(f->doc->root, "systemd") : NULL;

        if (yaml_node_is_null(n))
                return;
        if (n->type != YAML_NODE_MAPPING) {
                flake_problem(&diag->errors, f->path, n, "systemd: expected a mapping of unit settings, got a %s",
                        yaml_type_to_string(n->type));
                return;
        }

        for (size_t i = 0; i < n->n_items; i++) {
                const char *key = n->keys[i], *value;
                const YamlNode *v = n->items[i];
                const LimitSpec *spec;

                if (streq(key, "pull_at_boot")) {
                        parse_bool_setting(f, diag, v, key, &s->pull_at_boot);
                        s->pull_node = v;
                        continue;
                }
                if (streq(key, "start_at_boot")) {
                        parse_bool_setting(f, diag, v, key, &s->start_at_boot);
                        s->start_node = v;
                        continue;
                }

                spec = find_limit(key);
                if (!spec) {
                        flake_problem(&diag->warnings, f->path, v, "systemd.%s: unknown setting, ignoring", key);
                        continue;
                }
                if (yaml_node_is_null(v))
                        continue;
                if (yaml_node_get_string(v, &value) < 0 || !spec->valid(value)) {
                        flake_problem(&diag->errors, f->path, v, "systemd.%s: expected %s", key, spec->expected);
                        continue;
                }
                if (!s->limits_node)
                        s->limits_node = v;
                strv_consume(&s->service, xasprintf("%s=%s", key, value));
        }
}

/* Description= and SourcePath= expand specifiers: a '%' in an app name or a
 * path must reach systemd as "%%". */
static char *escape_specifiers(const char *s) {
        char *r = xmalloc(strlen(s) * 2 + 1), *p = r;

        for (; *s; s++) {
                if (*s == '%')
                        *p++ = '%';
                *p++ = *s;
        }
        *p = 0;
        return r;
}

/* A unit file line that ends in a backslash continues on the next line, and
 * a value cannot hold a line break: either would swallow or inject the
 * lines after it (the Requires= on flake-tap@ of an app named "net\").
 * Description= and SourcePath= are not unescaped by systemd, so no escaping
 * keeps such a value intact: it is refused. */
static bool unit_value_is_safe(const char *v) {
        size_t l = strlen(v);

        for (const char *p = v; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return false;
        /* systemd strips trailing blanks before it looks for the backslash. */
        while (l > 0 && strchr(" \t", v[l - 1]))
                l--;
        return l == 0 || v[l - 1] != '\\';
}

/* A network for which flake-tap@ makes a TAP: any but QEMU's user-mode
 * network, which lives inside the VMM. */
static bool network_needs_tap(const Flake *f) {
        const char *mode;

        if (yaml_node_is_null(yaml_lookup(f->doc->root, "vm.runtime.network")))
                return false;
        return yaml_node_get_string(yaml_lookup(f->doc->root, "vm.runtime.network.mode"), &mode) < 0 ||
               !streq(mode, FLAKE_NETWORK_MODE_USER);
}

static void add_file(FlakeUnits *u, char *path, char *content, char *target) {
        u->files = xrealloc(u->files, (u->n_files + 1) * sizeof(FlakeUnitFile));
        u->files[u->n_files++] = (FlakeUnitFile) {
                .path = path,
                .content = content,
                .target = target,
        };
}

/* Every line written goes through unit_value_is_safe(). */
static int add_dropin(const FlakeUnitsContext *ctx, FlakeUnits *u, const Flake *f,
                      const char *unit, const char *what, char * const *unit_lines,
                      char * const *service_lines, FlakeDiagnostics *diag) {
        _cleanup_free_ char *source = escape_specifiers(f->path);
        _cleanup_free_ char *name = escape_specifiers(f->name);
        _cleanup_free_ char *body = NULL, *units = NULL, *service = NULL, *description = NULL;
        _cleanup_free_ char *source_line = NULL;

        source_line = xasprintf("SourcePath=%s", source);
        description = xasprintf("Description=%s of flake %s", what, name);
        {
                char *head[] = { source_line, description, NULL };
                char * const *groups[] = { head, unit_lines, service_lines };

                for (size_t g = 0; g < ELEMENTSOF(groups); g++)
                        STRV_FOREACH(l, groups[g])
                                if (!unit_value_is_safe(*l)) {
                                        flake_problem(&diag->errors, f->path, NULL,
                                                "%s: the line '%.*s' would end in a backslash or hold a control "
                                                "character in %s", f->name, (int) strcspn(*l, "\n"), *l, unit);
                                        return -EBADMSG;
                                }
        }

        units = strv_join(unit_lines, "\n");
        if (strv_length(service_lines) == 0)
                service = xstrdup("");
        else {
                _cleanup_free_ char *l = strv_join(service_lines, "\n");
                service = xasprintf("\n[Service]\n%s\n", l);
        }
        body = xasprintf("# Automatically generated by %s\n"
                         "\n"
                         "[Unit]\n"
                         "%s\n"
                         "%s\n"
                         "%s%s"
                         "%s",
                         ctx->generator, source_line, description,
                         units, isempty(units) ? "" : "\n",
                         service);
        add_file(u, xasprintf("%s.d/%s", unit, FLAKE_UNITS_DROPIN), TAKE_PTR(body), NULL);
        return 0;
}

static void add_wants(const FlakeUnitsContext *ctx, FlakeUnits *u, const char *unit,
                      const char *template) {
        const char *target = ctx->user ? "default.target" : "multi-user.target";

        add_file(u, xasprintf("%s.wants/%s", target, unit), NULL,
                 xasprintf("%s/%s", ctx->unit_dir, template));
}

static void add_dependency(char ***lines, const char *unit) {
        strv_consume(lines, xasprintf("Requires=%s", unit));
        strv_consume(lines, xasprintf("After=%s", unit));
}

void flake_units_done(FlakeUnits *u) {
        for (size_t i = 0; i < u->n_files; i++) {
                free(u->files[i].path);
                free(u->files[i].content);
                free(u->files[i].target);
        }
        free(u->files);
        *u = (FlakeUnits) {};
}

int flake_units_build(const FlakeUnitsContext *ctx, const Flake *f, FlakeUnits *ret,
                      FlakeDiagnostics *diag) {
        _cleanup_(settings_done) Settings s = {};
        _cleanup_free_ char *vm = NULL, *pull = NULL, *tap = NULL;
        _cleanup_strv_free_ char **vm_deps = NULL;
        FlakeUnits u = {};
        size_t n_errors = strv_length(diag->errors);
        bool vm_flake = f->engine == FLAKE_ENGINE_FIRECRACKER;
        bool has_pull, has_network = false;
        int r = 0;

        if (!flake_app_name_is_valid(f->name)) {
                flake_problem(&diag->errors, f->path, NULL, "'%s' is not a valid app name", f->name);
                return -EBADMSG;
        }
        if (!unit_value_is_safe(f->name)) {
                flake_problem(&diag->errors, f->path, NULL,
                        "app name '%s' ends in a backslash, which systemd reads as a line continuation "
                        "in the unit files", f->name);
                return -EBADMSG;
        }

        vm = unit_name_build("flake-vm", f->name, ".service");
        pull = unit_name_build("flake-pull", f->name, ".service");
        tap = unit_name_build("flake-tap", f->name, ".service");
        if (strlen(pull) >= UNIT_NAME_MAX || strlen(vm) >= UNIT_NAME_MAX) {
                flake_problem(&diag->errors, f->path, NULL,
                        "app name '%s' is too long for a unit name (%s)", f->name, pull);
                return -EBADMSG;
        }

        parse_settings(f, diag, &s);
        if (strv_length(diag->errors) > n_errors)
                return -EBADMSG;

        /* A container flake always has images to pull; a VM flake only when
         * it says where from (vm.pull), otherwise its image was put in place
         * by "flake-ctl firecracker pull". */
        if (vm_flake) {
                has_pull = !yaml_node_is_null(yaml_lookup(f->doc->root, "vm.pull"));
                has_network = network_needs_tap(f);
        } else
                has_pull = true;

        /* Only flake-vm@ gets a drop-in: it carries what the flake adds to
         * its template (dependencies, limits). flake-pull@ and flake-tap@
         * take everything from the flake file when they run, so their
         * instances are the templates as shipped; a drop-in for each would
         * only repeat the Description= and more than double the files
         * written on every boot and daemon-reload (bench/generator.sh). */
        if (vm_flake) {
                if (has_network) {
                        if (ctx->user)
                                /* A user manager cannot depend on system units;
                                 * the TAP is the admin's business then. */
                                flake_problem(&diag->warnings, f->path, yaml_lookup(f->doc->root, "vm.runtime.network"),
                                        "vm.runtime.network: the user manager cannot start %s, "
                                        "it must be started by the system manager (or use QEMU's user-mode "
                                        "network: 'flake-ctl firecracker --user network add --mode user')", tap);
                        else
                                add_dependency(&vm_deps, tap);
                }
                if (has_pull)
                        add_dependency(&vm_deps, pull);
                r = add_dropin(ctx, &u, f, vm, "Virtual machine", vm_deps, s.service, diag);
        } else if (s.limits_node)
                flake_problem(&diag->warnings, f->path, s.limits_node,
                        "systemd: resource limits apply to flake-vm@ units only, ignored for a container flake");

        if (r < 0) {
                flake_units_done(&u);
                return r;
        }

        if (s.pull_at_boot) {
                if (has_pull)
                        add_wants(ctx, &u, pull, "flake-pull@.service");
                else
                        flake_problem(&diag->warnings, f->path, s.pull_node,
                                "systemd.pull_at_boot: the flake has no vm.pull source, ignoring");
        }
        if (s.start_at_boot) {
                if (vm_flake)
                        add_wants(ctx, &u, vm, "flake-vm@.service");
                else
                        flake_problem(&diag->warnings, f->path, s.start_node,
                                "systemd.start_at_boot: only VM flakes can be started at boot, ignoring");
        }

        *ret = u;
        return 0;
}
