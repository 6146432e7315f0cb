/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "agent-protocol.h"
#include "strv.h"
#include "vm-bootargs.h"

void vm_boot_args_add_mode(char ***args, bool resume, bool force_vsock) {
        if (resume && !strv_contains(*args, SCI_ARG_RESUME "=1"))
                strv_extend(args, SCI_ARG_RESUME "=1");
        if (force_vsock && !strv_contains(*args, SCI_ARG_FORCE_VSOCK "=1"))
                strv_extend(args, SCI_ARG_FORCE_VSOCK "=1");
}

bool vm_term_is_safe(const char *term) {
        size_t l;

        if (!term)
                return false;
        l = strlen(term);
        if (l == 0 || l > 32)
                return false;
        return strspn(term, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.+") == l;
}

char *vm_run_arg_escape(const char *arg) {
        char *out, *p;

        /* The kernel ends a quoted value at any '"', escaped or not. */
        if (strpbrk(arg, "\"\n"))
                return NULL;
        if (arg[0] == 0)
                return xstrdup("''");
        out = p = xmalloc(strlen(arg) * 2 + 1);
        for (const char *s = arg; *s; s++) {
                if (strchr("-\\ \t'", *s))
                        *p++ = '\\';
                *p++ = *s;
        }
        *p = 0;
        return out;
}

static bool dropped(char * const *drop, const char *item) {
        STRV_FOREACH(d, drop) {
                size_t l = strlen(*d);
                if (streq(item, *d))
                        return true;
                if (l > 0 && (*d)[l - 1] == '=' && strneq(item, *d, l))
                        return true;
        }
        return false;
}

char *vm_boot_args_build(const VmBootArgs *a) {
        _cleanup_strv_free_ char **l = NULL;

        if (a->pilot_debug)
                strv_extend(&l, "PILOT_DEBUG=1");
        if (a->overlay)
                strv_extend(&l, "overlay_root=/dev/vdb");
        if (vm_term_is_safe(a->term))
                strv_consume(&l, xasprintf("sci_term=%s", a->term));
        if (a->rows > 0 && a->cols > 0) {
                strv_consume(&l, xasprintf("sci_lines=%u", a->rows));
                strv_consume(&l, xasprintf("sci_columns=%u", a->cols));
        }
        STRV_FOREACH(b, a->boot_args) {
                if (isempty(*b) || dropped(a->drop, *b))
                        continue;
                if (a->agent && !a->pilot_debug && !a->keep_console && startswith(*b, "console="))
                        strv_extend(&l, "console=");
                else
                        strv_extend(&l, *b);
        }
        if (a->agent)
                strv_extend(&l, "run=vsock");
        else {
                _cleanup_strv_free_ char **q = NULL;
                _cleanup_free_ char *j = NULL;

                STRV_FOREACH(r, a->run_argv) {
                        char *e = vm_run_arg_escape(*r);
                        if (!e)
                                return NULL;
                        strv_consume(&q, e);
                }
                j = strv_join(q, " ");
                strv_consume(&l, xasprintf("run=\"%s\"", j));
        }
        return strv_join(l, " ");
}
