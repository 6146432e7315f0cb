/* SPDX-License-Identifier: MIT */
#include "display.h"
#include "macro.h"

char *escape_for_display(const char *s) {
        char *r, *o;

        if (!s)
                return NULL;
        /* At most four bytes out per byte in ("\xNN"). */
        o = r = xmalloc(strlen(s) * 4 + 1);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                /* U+0080..U+009F (C1, e.g. CSI) is 0xC2 0x80..0x9F. */
                bool c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;

                if (*p < 0x20 || *p == 0x7f || c1) {
                        o += sprintf(o, "\\x%02x", c1 ? p[1] : *p);
                        p += c1;
                } else if (*p == '\\') {
                        *o++ = '\\';
                        *o++ = '\\';
                } else
                        *o++ = (char) *p;
        }
        *o = 0;
        return r;
}
