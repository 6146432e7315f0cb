/* SPDX-License-Identifier: MIT */
#include "strv.h"

char **strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char * const *l) {
        size_t n = 0;
        STRV_FOREACH(s, l)
                n++;
        return n;
}

bool strv_contains(char * const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

void strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);

        *l = xrealloc(*l, sizeof(char *) * (n + 2));
        (*l)[n] = s;
        (*l)[n + 1] = NULL;
}

void strv_extend(char ***l, const char *s) {
        strv_consume(l, xstrdup(s));
}

void strv_extend_strv(char ***l, char * const *other) {
        STRV_FOREACH(s, other)
                strv_extend(l, *s);
}

char **strv_copy(char * const *l) {
        char **c = xmalloc(sizeof(char *));
        strv_extend_strv(&c, l);
        return c;
}

static int str_compare(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

void strv_sort(char **l) {
        size_t n = strv_length(l);
        if (n > 1)
                qsort(l, n, sizeof(char *), str_compare);
}

char *strv_join(char * const *l, const char *sep) {
        size_t len = 1, sl = strlen(sep);
        char *r, *p;

        STRV_FOREACH(s, l)
                len += strlen(*s) + sl;
        p = r = xmalloc(len);
        STRV_FOREACH(s, l) {
                if (s != l)
                        p = stpcpy(p, sep);
                p = stpcpy(p, *s);
        }
        *p = 0;
        return r;
}

bool strv_equal(char * const *a, char * const *b) {
        for (;; a++, b++) {
                if (!a || !*a || !b || !*b)
                        return (!a || !*a) && (!b || !*b);
                if (!streq(*a, *b))
                        return false;
        }
}
