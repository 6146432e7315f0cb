/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdarg.h>

#include "build-config.h"
#include "ctl.h"
#include "log.h"
#include "names.h"
#include "strv.h"
#include "utf8.h"

typedef struct Verb {
        const char *name;
        CtlVerb run;
        const char *summary;
} Verb;

static const Verb podman_verbs[] = {
        { "register", verb_podman_register, "register a container application" },
        { "remove",   verb_podman_remove,   "remove a registration (or all of a container)" },
        { "show",     verb_podman_show,     "list container instances and their status" },
        { "pull",     verb_podman_pull,     "pull an image into the flake image store" },
        { "load",     verb_podman_load,     "load an image archive into the flake image store" },
        { "stop",     verb_podman_stop,     "stop and remove a resumed instance" },
};

static const Verb firecracker_verbs[] = {
        { "register", verb_firecracker_register, "register a VM application" },
        { "remove",   verb_firecracker_remove,   "remove a registration (or all of a VM image)" },
        { "show",     verb_firecracker_show,     "list VM instances" },
        { "pull",     verb_firecracker_pull,     "fetch a VM image into the image registry" },
        { "network",  verb_firecracker_network,  "network settings of VM flakes (init add remove show)" },
        { "snapshot", verb_firecracker_snapshot, "make (or --remove) the snapshot one-shot calls restore" },
        { "volume",   verb_firecracker_volume,   "NFS volumes of VM flakes (add remove)" },
};

int ctl_usage_error(const char *fmt, ...) {
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_error("%s", msg);
        return -EINVAL;
}

int ctl_check_value(const char *option, const char *value) {
        int r;

        if (isempty(value))
                return ctl_usage_error("%s: empty value", option);
        r = text_check(value);
        /* log escapes what it shows, so the value is given as it is. */
        if (r == -EILSEQ)
                return ctl_usage_error("%s: not valid UTF-8: '%s'", option, value);
        if (r < 0)
                return ctl_usage_error("%s: contains a control character: '%s'", option, value);
        return 0;
}

int ctl_check_image(const char *option, const char *value) {
        if (!container_image_ref_is_valid(value))
                return ctl_usage_error("%s: '%s' is not a valid image reference "
                                       "([REGISTRY[:PORT]/]NAME[:TAG][@DIGEST], NAME in lower case)", option, value);
        return 0;
}

/* The long options that name starts (names up to '=' or its end). */
static size_t long_option_matches(const struct option *options, const char *name, size_t len, char **ret_list) {
        _cleanup_strv_free_ char **matches = NULL;

        for (const struct option *o = options; o->name; o++)
                if (strneq(o->name, name, len)) {
                        if (strlen(o->name) == len) {
                                strv_free(matches);
                                matches = NULL;
                                strv_consume(&matches, xasprintf("--%s", o->name));
                                break;
                        }
                        strv_consume(&matches, xasprintf("--%s", o->name));
                }
        if (ret_list)
                *ret_list = strv_join(matches, ", ");
        return strv_length(matches);
}

/* getopt_long() leaves no record of what it stumbled over: reconstructs it
 * from optind and optopt, as glibc sets them with opterr = 0. */
static void log_getopt_error(int c, int argc, char *argv[], const struct option *options, int optind_before) {
        _cleanup_free_ char *prefix = NULL, *name = NULL, *list = NULL;
        const char *arg, *base = argv[0] ? strrchr(argv[0], '/') : NULL;

        base = base ? base + 1 : argv[0];
        prefix = base && !streq(base, program_invocation_short_name) ? xasprintf("%s: ", base) : xstrdup("");

        /* Inside a group of short options ("-xh"), optind has not moved on;
         * otherwise the argument just passed is the culprit. */
        arg = optind > (optind_before > 0 ? optind_before : 1) && optind <= argc ? argv[optind - 1] : NULL;

        if (arg && startswith(arg, "--")) {
                size_t len = strcspn(arg + 2, "=");

                name = xstrndup(arg, len + 2);
                if (c == ':')
                        (void) ctl_usage_error("%soption '%s' needs a value", prefix, name);
                else if (optopt != 0)
                        (void) ctl_usage_error("%soption '%s' takes no value", prefix, name);
                else if (long_option_matches(options, arg + 2, len, &list) > 1)
                        (void) ctl_usage_error("%soption '%s' is ambiguous (%s)", prefix, name, list);
                else
                        (void) ctl_usage_error("%sunrecognized option '%s'", prefix, name);
                return;
        }
        if (c == ':')
                (void) ctl_usage_error("%soption '-%c' needs a value", prefix, optopt);
        else
                (void) ctl_usage_error("%sunknown option '-%c'", prefix, optopt);
}

int ctl_option_values(int argc, char *argv[], const char *option, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        strv_extend(&l, optarg);        /* checked by ctl_getopt() */
        for (; optind < argc && argv[optind][0] != '-'; optind++) {
                int r = ctl_check_value(option, argv[optind]);
                if (r < 0)
                        return r;
                strv_extend(&l, argv[optind]);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int ctl_print_version(void) {
        printf("flake-ctl %s\n", PACKAGE_VERSION);
        return 0;
}

/* options plus --version, unless the caller has its own. */
static struct option *options_with_version(const struct option *options) {
        size_t n = 0;
        struct option *o;
        bool has = false;

        for (; options[n].name; n++)
                has = has || streq(options[n].name, "version");
        o = xmalloc((n + 2) * sizeof(struct option));
        memcpy(o, options, n * sizeof(struct option));
        if (!has)
                o[n++] = (struct option) { "version", no_argument, NULL, 'V' };
        o[n] = (struct option) {};
        return o;
}

int ctl_getopt(int argc, char *argv[], const char *optstring, const struct option *options) {
        /* ':' first (after a '+'): a missing value is reported as ':'. Every
         * command takes -V/--version, as the original's (clap's propagated
         * version); a caller that handles 'V' itself has it in optstring. */
        bool posix = optstring[0] == '+', own_version = strchr(optstring, 'V');
        _cleanup_free_ char *s = xasprintf("%s:%s%s", posix ? "+" : "", optstring + posix, own_version ? "" : "V");
        _cleanup_free_ struct option *all = options_with_version(options);
        int c, idx = -1, before = optind;

        options = all;
        opterr = 0;
        c = getopt_long(argc, argv, s, options, &idx);
        if (c == 'V' && !own_version) {
                /* Nothing has been done yet: parsing comes first. */
                (void) ctl_print_version();
                exit(EXIT_SUCCESS);
        }
        if (c == '?' || c == ':') {
                log_getopt_error(c, argc, argv, options, before);
                return '?';
        }
        if (c >= 0 && optarg) {
                _cleanup_free_ char *name = idx >= 0 ? xasprintf("--%s", options[idx].name) : xasprintf("-%c", c);

                if (ctl_check_value(name, optarg) < 0)
                        return '?';
        }
        return c;
}

int ctl_load_config(Ctl *ctl) {
        /* Root's --user is ignored, as in the original tool. */
        if (ctl->user && getuid() == 0) {
                log_debug("--user ignored for root");
                ctl->user = false;
        }
        return flake_config_load(&ctl->config, ctl->user);
}

static void help_main(void) {
        printf("flake-ctl - manage flake applications\n\n"
               "Usage: flake-ctl [OPTIONS] COMMAND ...\n\n"
               "Commands:\n"
               "  init [--user] [--force]           create the per-user setup\n"
               "  list [--user] [--format FORMAT]   list registered flakes\n"
               "  verify [--user] [NAME...]         check registrations, print every problem\n"
               "  podman [--user] COMMAND ...       container flakes (register remove show pull load stop)\n"
               "  firecracker [--user] COMMAND ...  VM flakes (register remove show pull network snapshot volume)\n"
               "  help [COMMAND]                    show help\n\n"
               "Options:\n"
               "  -h --help     show this help\n"
               "  -V --version  show the version\n\n"
               "See flake-ctl(8) and flakes.yaml(5).\n");
}

static void help_engine(const char *engine, const Verb *verbs, size_t n) {
        printf("Usage: flake-ctl %s [--user] COMMAND [OPTIONS]\n\nCommands:\n", engine);
        for (size_t i = 0; i < n; i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
        printf("\nRun 'flake-ctl %s COMMAND --help' for the options of a command.\n", engine);
}

static const Verb *find_verb(const Verb *verbs, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

/* "flake-ctl podman [--user] VERB ...": --user goes before the verb, as in the original. */
static int run_engine(Ctl *ctl, const char *engine, const Verb *verbs, size_t n, int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "user", no_argument, NULL, 'u' },
                {}
        };
        const Verb *v;
        int c;

        optind = 0;
        while ((c = ctl_getopt(argc, argv, "+hu", options)) >= 0)
                switch (c) {
                case 'h':
                        help_engine(engine, verbs, n);
                        return 0;
                case 'u':
                        ctl->user = true;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind >= argc) {
                help_engine(engine, verbs, n);
                return ctl_usage_error("missing command after '%s'", engine);
        }
        if (streq(argv[optind], "help")) {
                help_engine(engine, verbs, n);
                return 0;
        }
        v = find_verb(verbs, n, argv[optind]);
        if (!v)
                return ctl_usage_error("unknown command '%s %s'", engine, argv[optind]);
        return v->run(ctl, argc - optind, argv + optind);
}

static int run(Ctl *ctl, int argc, char *argv[]) {
        static const struct option options[] = {
                { "help",    no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        const char *cmd;
        int c;

        while ((c = ctl_getopt(argc, argv, "+hV", options)) >= 0)
                switch (c) {
                case 'h':
                        help_main();
                        return 0;
                case 'V':
                        return ctl_print_version();
                default:
                        return -EINVAL;
                }

        if (optind >= argc) {
                help_main();
                return ctl_usage_error("missing command");
        }
        cmd = argv[optind];
        argc -= optind;
        argv += optind;

        if (streq(cmd, "help")) {
                if (argc > 1 && streq(argv[1], "podman"))
                        help_engine("podman", podman_verbs, ELEMENTSOF(podman_verbs));
                else if (argc > 1 && streq(argv[1], "firecracker"))
                        help_engine("firecracker", firecracker_verbs, ELEMENTSOF(firecracker_verbs));
                else
                        help_main();
                return 0;
        }
        /* Undocumented: prints a built-in template (used by the build to
         * install /etc/flakes/<engine>-flake.yaml). */
        if (streq(cmd, "template") && argc == 2) {
                FlakeEngine e = flake_engine_from_string(streq(argv[1], "container") ? "podman" : argv[1]);
                if (e < 0)
                        return ctl_usage_error("template: unknown engine '%s'", argv[1]);
                fputs(e == FLAKE_ENGINE_PODMAN ? flake_template_container : flake_template_firecracker, stdout);
                return 0;
        }
        if (streq(cmd, "init"))
                return verb_init(ctl, argc, argv);
        if (streq(cmd, "list"))
                return verb_list(ctl, argc, argv);
        if (streq(cmd, "verify"))
                return verb_verify(ctl, argc, argv);
        if (streq(cmd, "podman"))
                return run_engine(ctl, "podman", podman_verbs, ELEMENTSOF(podman_verbs), argc, argv);
        if (streq(cmd, "firecracker"))
                return run_engine(ctl, "firecracker", firecracker_verbs, ELEMENTSOF(firecracker_verbs), argc, argv);
        return ctl_usage_error("unknown command '%s'", cmd);
}

int main(int argc, char *argv[]) {
        Ctl ctl = {};
        int r;

        log_setup("flake-ctl", LOG_TARGET_STDERR);
        r = run(&ctl, argc, argv);
        flake_config_done(&ctl.config);
        if (r == -EINVAL)
                return CTL_EXIT_USAGE;
        return r < 0 ? CTL_EXIT_FAILURE : 0;
}
