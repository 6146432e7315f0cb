/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "sci-util.h"

bool sci_debug = false;

void sci_strv_free(char **l) {
        for (size_t i = 0; l && l[i]; i++)
                free(l[i]);
        free(l);
}

/* Appends s to the list; on failure s stays the caller's. */
static bool push(char ***l, size_t *n, char *s) {
        char **t = realloc(*l, (*n + 2) * sizeof(char *));
        if (!t)
                return false;
        t[(*n)++] = s;
        t[*n] = NULL;
        *l = t;
        return true;
}

/* gcc 12's -fanalyzer loses track of the words stored into the realloc()ed
 * list and reports them as leaked when the next word is allocated
 * (test-sci-net splits with and without allocation failures, under ASan
 * and valgrind, without leaks). */
DISABLE_WARNING_ANALYZER_MALLOC_LEAK
char **sci_shell_split(const char *s) {
        size_t len = strlen(s), n = 0;
        char **l = NULL, *w = NULL;
        size_t wl = 0;
        bool in_word = false;

        for (size_t i = 0; i <= len; i++) {
                char c = s[i];

                if (c == 0 || c == ' ' || c == '\t' || c == '\n') {
                        if (in_word) {
                                w[wl] = 0;
                                if (!push(&l, &n, w))
                                        goto fail;
                                w = NULL;
                                in_word = false;
                        }
                        continue;
                }
                if (!in_word) {
                        w = malloc(len + 1);
                        if (!w)
                                goto fail;
                        wl = 0;
                        in_word = true;
                }
                if (c == '\\') {
                        if (s[i + 1] == 0)
                                goto fail;
                        w[wl++] = s[++i];
                } else if (c == '\'') {
                        const char *e = strchr(s + i + 1, '\'');
                        if (!e)
                                goto fail;
                        memcpy(w + wl, s + i + 1, (size_t) (e - s - i - 1));
                        wl += (size_t) (e - s - i - 1);
                        i = (size_t) (e - s);
                } else if (c == '"') {
                        for (i++;; i++) {
                                if (s[i] == 0)
                                        goto fail;
                                if (s[i] == '"')
                                        break;
                                if (s[i] == '\\' && s[i + 1] && strchr("\"\\$`", s[i + 1]))
                                        i++;
                                w[wl++] = s[i];
                        }
                } else
                        w[wl++] = c;
        }
        if (n == 0)
                goto fail;
        return l;
fail:
        free(w);
        sci_strv_free(l);
        return NULL;
}
REENABLE_WARNING

void sci_cmdline_foreach(const char *cmdline, void (*cb)(const char *key, const char *value, void *userdata),
                         void *userdata) {
        const char *p = cmdline;

        for (;;) {
                bool quoted = false;
                const char *start;
                char *word, *eq, *v;
                size_t l;

                while (*p == ' ' || *p == '\t' || *p == '\n')
                        p++;
                if (*p == 0)
                        return;
                start = p;
                /* Like the kernel's next_arg(): a double quote toggles
                 * quoting, blanks inside quotes do not end the word. */
                for (; *p; p++) {
                        if (*p == '"')
                                quoted = !quoted;
                        else if (!quoted && (*p == ' ' || *p == '\t' || *p == '\n'))
                                break;
                }
                l = (size_t) (p - start);
                word = strndup(start, l);
                if (!word)
                        return;
                eq = strchr(word, '=');
                if (eq) {
                        *eq = 0;
                        v = eq + 1;
                        l = strlen(v);
                        if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
                                v[l - 1] = 0;
                                v++;
                        }
                        cb(word, v, userdata);
                } else
                        cb(word, NULL, userdata);
                free(word);
        }
}
