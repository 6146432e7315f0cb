/* SPDX-License-Identifier: MIT */
/* A strict decoder of our own: glibc's mbrtowc() in C.UTF-8 accepts code
 * points above U+10FFFF, which YAML and JSON refuse, and the libraries that
 * get this right (glib, libunistring) would be new dependencies of every
 * binary for twenty lines. */
#include "macro.h"
#include "utf8.h"

int utf8_decode(const char *s, size_t n, uint32_t *ret) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t c, min;
        size_t len;

        if (n == 0)
                return -EILSEQ;
        if (p[0] < 0x80) {
                *ret = p[0];
                return 1;
        }
        if ((p[0] & 0xe0) == 0xc0) {
                len = 2; c = p[0] & 0x1f; min = 0x80;
        } else if ((p[0] & 0xf0) == 0xe0) {
                len = 3; c = p[0] & 0x0f; min = 0x800;
        } else if ((p[0] & 0xf8) == 0xf0) {
                len = 4; c = p[0] & 0x07; min = 0x10000;
        } else
                return -EILSEQ;
        if (n < len)
                return -EILSEQ;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return -EILSEQ;
                c = (c << 6) | (p[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return -EILSEQ;
        *ret = c;
        return (int) len;
}

/* Walks s; returns -EILSEQ at the first invalid byte, else -EBADMSG if
 * there was a control character, else 0. */
int text_check(const char *s) {
        size_t n = strlen(s);
        bool control = false;

        for (size_t i = 0; i < n;) {
                uint32_t c;
                int l = utf8_decode(s + i, n - i, &c);

                if (l < 0)
                        return l;
                if (unichar_is_control(c))
                        control = true;
                i += (size_t) l;
        }
        return control ? -EBADMSG : 0;
}

bool utf8_is_valid(const char *s) {
        return text_check(s) != -EILSEQ;
}

static size_t escape_one(char *out, const char *s, size_t n, size_t *consumed) {
        uint32_t c;
        int l = utf8_decode(s, n, &c);

        if (l < 0) {
                *consumed = 1;
                return (size_t) sprintf(out, "\\x%02x", (unsigned char) s[0]);
        }
        *consumed = (size_t) l;
        if (!unichar_is_control(c)) {
                memcpy(out, s, (size_t) l);
                return (size_t) l;
        }
        switch (c) {
        case '\a': return (size_t) sprintf(out, "\\a");
        case '\b': return (size_t) sprintf(out, "\\b");
        case '\t': return (size_t) sprintf(out, "\\t");
        case '\n': return (size_t) sprintf(out, "\\n");
        case '\v': return (size_t) sprintf(out, "\\v");
        case '\f': return (size_t) sprintf(out, "\\f");
        case '\r': return (size_t) sprintf(out, "\\r");
        default:
                return (size_t) sprintf(out, c < 0x80 ? "\\x%02x" : "\\u%04x", (unsigned) c);
        }
}

char *text_escape(const char *s) {
        size_t n, o = 0;
        char *r;

        if (!s)
                return NULL;
        n = strlen(s);
        /* The longest escape, \u009f, takes 6 bytes for 2 of input; \xNN 4 for 1. */
        r = xmalloc(n * 4 + 1);
        for (size_t i = 0; i < n;) {
                size_t used;

                o += escape_one(r + o, s + i, n - i, &used);
                i += used;
        }
        r[o] = 0;
        return r;
}

char *text_escape_if_needed(const char *s) {
        return s && text_check(s) < 0 ? text_escape(s) : NULL;
}
