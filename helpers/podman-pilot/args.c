/* SPDX-License-Identifier: MIT */
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "pilot.h"
#include "strv.h"

void pilot_args_done(PilotArgs *a) {
        free(a->instance_suffix);
        strv_free(a->app_args);
        *a = (PilotArgs) {};
}

static int parse_option(const char *arg, PilotArgs *a) {
        static const struct {
                const char *name;
                size_t offset;
        } table[] = {
                { "progress",                   offsetof(PilotArgs, progress) },
                { "interactive",                offsetof(PilotArgs, interactive) },
                { "remove",                     offsetof(PilotArgs, remove) },
                { "ignore_sync_error",          offsetof(PilotArgs, ignore_sync_error) },
                { "ignore_missing_volume_path", offsetof(PilotArgs, ignore_missing_volume_path) },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(arg + 1, table[i].name)) {
                        *(bool *) ((char *) a + table[i].offset) = true;
                        return 0;
                }
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                               "Unknown pilot option '%s' (use '--' before arguments meant for the app)",
                               arg);
}

int pilot_args_parse(char **argv, PilotArgs *ret) {
        _cleanup_(pilot_args_done) PilotArgs a = {};
        bool pilot_options = true;
        int r;

        for (char **arg = argv; arg && *arg; arg++) {
                if (pilot_options && streq(*arg, "--")) {
                        /* Everything after the first "--" belongs to the app,
                         * so it can receive @x and %x (the original could not). */
                        pilot_options = false;
                        continue;
                }
                if (pilot_options && (*arg)[0] == '@') {
                        if (!flake_instance_name_is_valid(*arg))
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "Invalid instance name '%s': at most %d characters of "
                                                       "A-Z a-z 0-9 @ = _ -", *arg, FLAKE_INSTANCE_NAME_MAX);
                        if (a.instance_suffix)
                                log_debug("Ignoring second instance name %s", *arg);
                        else
                                a.instance_suffix = xstrdup(*arg);
                        continue;
                }
                if (pilot_options && (*arg)[0] == '%') {
                        r = parse_option(*arg, &a);
                        if (r < 0)
                                return r;
                        continue;
                }
                strv_extend(&a.app_args, *arg);
        }
        if (!a.app_args)
                a.app_args = calloc(1, sizeof(char *));
        *ret = a;
        a = (PilotArgs) {};
        return 0;
}

static bool var_char(char c, bool first) {
        return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

int pilot_expand_vars(const char *s, bool from_env, char **ret) {
        _cleanup_free_ char *cur = xstrdup(s);

        for (int round = 0; ; round++) {
                _cleanup_free_ char *next = NULL;
                size_t n = 0, cap = strlen(cur) + 1;
                bool changed = false;

                if (!strchr(cur, '%')) {
                        *ret = TAKE_PTR(cur);
                        return 0;
                }
                if (round >= 10)
                        return log_error_errno(SYNTHETIC_ERRNO(ELOOP),
                                               "Too many variable expansions in '%s'", s);
                next = xmalloc(cap);
                for (const char *p = cur; *p;) {
                        size_t l = 0;
                        const char *v;

                        if (p[0] == '%' && var_char(p[1], true)) {
                                while (var_char(p[1 + l], l == 0))
                                        l++;
                                _cleanup_free_ char *name = xstrndup(p + 1, l);
                                _cleanup_free_ char *dollar = NULL;
                                v = from_env ? getenv(name) : NULL;
                                if (!v)
                                        v = dollar = xasprintf("$%s", name);
                                cap += strlen(v);
                                next = xrealloc(next, cap);
                                memcpy(next + n, v, strlen(v));
                                n += strlen(v);
                                p += 1 + l;
                                changed = true;
                                continue;
                        }
                        next[n++] = *p++;
                }
                next[n] = 0;
                free(cur);
                cur = TAKE_PTR(next);
                if (!changed) {
                        *ret = TAKE_PTR(cur);
                        return 0;
                }
        }
}

static bool is_tty_flag(const char *s) {
        return streq(s, "-t") || streq(s, "-i") || streq(s, "-ti") || streq(s, "-it") ||
               streq(s, "--tty") || streq(s, "--interactive") ||
               streq(s, "--tty=true") || streq(s, "--interactive=true");
}

static bool missing_volume(const char *key, const char *value) {
        _cleanup_free_ char *host = NULL;

        if (!(streq(key, "-v") || streq(key, "--volume")) || !value || value[0] != '/')
                return false;
        host = xstrndup(value, strcspn(value, ":"));
        return !path_exists(host);
}

int pilot_podman_options(const Flake *f, const PilotArgs *a, char ***ret) {
        _cleanup_strv_free_ char **opts = NULL;
        int r;

        STRV_FOREACH(o, f->podman_opts) {
                _cleanup_free_ char *key = NULL, *value = NULL, *raw = NULL;
                const char *sp = strchr(*o, ' ');
                const char *eq;

                /* As the original: one string is "option" or "option value",
                 * split at the first space only. */
                r = pilot_expand_vars(sp ? (raw = xstrndup(*o, (size_t) (sp - *o))) : *o,
                                      !a->vars_from_nothing, &key);
                if (r < 0)
                        return r;
                if (sp) {
                        r = pilot_expand_vars(sp + 1 + strspn(sp + 1, " "), !a->vars_from_nothing, &value);
                        if (r < 0)
                                return r;
                }
                if (is_tty_flag(key) && !value)
                        continue;
                if (a->ignore_missing_volume_path) {
                        eq = strchr(key, '=');
                        if (eq ? ({ _cleanup_free_ char *k = xstrndup(key, (size_t) (eq - key));
                                    missing_volume(k, eq + 1); })
                               : missing_volume(key, value)) {
                                log_debug("Dropping volume option with a missing host path: %s", *o);
                                continue;
                        }
                }
                strv_consume(&opts, TAKE_PTR(key));
                if (value)
                        strv_consume(&opts, TAKE_PTR(value));
        }
        *ret = TAKE_PTR(opts);
        return 0;
}
