/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include "ctl.h"
#include "log.h"
#include "strv.h"
#include "table.h"

static const TableColumn list_columns[] = {
        { "NAME", "name", 0 },
        { "ENGINE", "engine", 0 },
        { "TARGET APP PATH", "target", 0 },
        { "HOST APP PATH", "host_app_path", 0 },
        { "CONFIG", "config", 0 },
};

int ctl_parse_format(const char *arg, OutputFormat *ret) {
        OutputFormat f = output_format_from_string(arg);
        if (f < 0)
                return ctl_usage_error("--format: expected table, json or csv, not '%s'", arg);
        *ret = f;
        return 0;
}

int ctl_parse_listing(Ctl *ctl, int argc, char *argv[], const char *usage, bool user_option,
                      OutputFormat *ret_format) {
        static const struct option options[] = {
                { "help",   no_argument,       NULL, 'h' },
                { "user",   no_argument,       NULL, 'u' },
                { "format", required_argument, NULL, 'f' },
                {}
        };
        int c, r;

        *ret_format = OUTPUT_TABLE;
        optind = 0;
        while ((c = ctl_getopt(argc, argv, user_option ? "huf:" : "hf:", options)) >= 0)
                switch (c) {
                case 'h':
                        fputs(usage, stdout);
                        return 1;
                case 'u':
                        if (!user_option)
                                return ctl_usage_error("%s: --user goes before the command", argv[0]);
                        ctl->user = true;
                        break;
                case 'f':
                        r = ctl_parse_format(optarg, ret_format);
                        if (r < 0)
                                return r;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return ctl_usage_error("%s: unexpected argument '%s'", argv[0], argv[optind]);
        return 0;
}

int verb_list(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *title = NULL;
        OutputFormat format;
        int r;

        r = ctl_parse_listing(ctl, argc, argv,
                              "Usage: flake-ctl list [--user] [--format table|json|csv]\n\n"
                              "List the registered flake applications.\n", true, &format);
        if (r != 0)
                return r < 0 ? r : 0;

        r = ctl_load_config(ctl);
        if (r < 0)
                return ctl_failure(r);

        r = flake_list_names(ctl->config.flakes_dir, &names);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", ctl->config.flakes_dir);

        t = table_new(list_columns, ELEMENTSOF(list_columns));
        STRV_FOREACH(name, names) {
                _cleanup_(flake_freep) Flake *f = NULL;
                _cleanup_free_ char *path = flake_yaml_path(ctl->config.flakes_dir, *name);
                FlakeDiagnostics diag = {};

                /* A broken registration is listed, with a warning that says
                 * why, instead of failing the whole listing. */
                r = flake_load(ctl->config.flakes_dir, *name, &f, &diag);
                if (r < 0 && diag.errors)
                        log_warning("%s (see 'flake-ctl verify %s')", diag.errors[0], *name);
                flake_diagnostics_done(&diag);

                const char *row[] = {
                        *name,
                        f ? flake_engine_to_string(f->engine) : NULL,
                        f ? f->target_app_path : NULL,
                        f ? f->host_app_path : NULL,
                        path,
                };
                table_add_row(t, row);
        }

        title = xasprintf("Flake applications registered in %s", ctl->config.flakes_dir);
        r = table_print(t, format, title, "No application(s) registered", stdout);
        if (r < 0)
                return log_error_errno(r, "Failed to write output: %m");
        return 0;
}
