/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>

#include "macro.h"

static _noreturn_ void oom(void) {
        fputs("Out of memory.\n", stderr);
        abort();
}

void *xmalloc(size_t n) {
        void *p = calloc(1, n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n) {
        p = realloc(p, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s) {
        char *p = strdup(s);
        if (!p)
                oom();
        return p;
}

char *xstrndup(const char *s, size_t n) {
        char *p = strndup(s, n);
        if (!p)
                oom();
        return p;
}

char *xasprintf(const char *fmt, ...) {
        char buf[256], *p;
        int n, saved_errno = errno;     /* for %m, across malloc() */
        va_list ap;

        /* Most strings fit the stack buffer: one allocation of the right
         * size, where vasprintf() grows and shrinks its own (the generator
         * formats several strings per flake). */
        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0)
                oom();
        p = malloc((size_t) n + 1);
        if (!p)
                oom();
        if ((size_t) n < sizeof(buf))
                memcpy(p, buf, (size_t) n + 1);
        else {
                errno = saved_errno;
                va_start(ap, fmt);
                (void) vsnprintf(p, (size_t) n + 1, fmt, ap);
                va_end(ap);
        }
        return p;
}
