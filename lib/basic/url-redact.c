/* SPDX-License-Identifier: MIT */
#include <ctype.h>

#include "macro.h"
#include "url-redact.h"

static bool is_scheme_char(char c) {
        return isascii((unsigned char) c) && (isalnum((unsigned char) c) || strchr("+.-", c));
}

static bool ends_url(char c) {
        return c == 0 || isspace((unsigned char) c) || strchr("\"'<>", c);
}

static char *append(char *o, const char *s, size_t n) {
        memcpy(o, s, n);
        return o + n;
}

char *url_redact(const char *text) {
        const char *p, *sep;
        char *r, *o;

        if (!text)
                return NULL;
        /* Redaction never makes a part longer than "***" plus its marker. */
        o = r = xmalloc(strlen(text) * 2 + 8);
        p = text;
        while ((sep = strstr(p, "://"))) {
                const char *start = sep, *auth, *end, *at = NULL, *q;

                while (start > p && is_scheme_char(start[-1]))
                        start--;
                auth = sep + 3;
                if (start == sep || !isalpha((unsigned char) *start)) {
                        /* Not a URL ("://" with no scheme): keep as is. */
                        o = append(o, p, (size_t) (auth - p));
                        p = auth;
                        continue;
                }
                o = append(o, p, (size_t) (auth - p));

                /* The authority: up to the path, query or fragment. Its
                 * last '@' ends the user info (a password may hold '@'). */
                for (end = auth; !ends_url(*end) && !strchr("/?#", *end); end++)
                        if (*end == '@')
                                at = end;
                if (at) {
                        o = append(o, "***", 3);
                        auth = at;
                }
                o = append(o, auth, (size_t) (end - auth));

                /* The path, kept; the query and the fragment, hidden. */
                for (q = end; !ends_url(*q) && !strchr("?#", *q); q++)
                        ;
                o = append(o, end, (size_t) (q - end));
                while (*q == '?' || *q == '#') {
                        const char *n = q + 1;

                        while (!ends_url(*n) && (*q == '#' || *n != '#'))
                                n++;
                        *o++ = *q;
                        if (n > q + 1)
                                o = append(o, "***", 3);
                        q = n;
                }
                p = q;
        }
        o = append(o, p, strlen(p));
        *o = 0;
        return r;
}
