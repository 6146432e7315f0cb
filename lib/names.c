/* SPDX-License-Identifier: MIT */
#include <ctype.h>

#include "names.h"
#include "macro.h"

bool flake_app_name_is_valid(const char *name) {
        size_t l;

        if (isempty(name) || name[0] == '.')
                return false;
        l = strlen(name);
        if (l > FLAKE_APP_NAME_MAX)
                return false;
        for (const char *p = name; *p; p++)
                if (*p == '/' || (unsigned char) *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

bool flake_instance_name_is_valid(const char *name) {
        if (!name || name[0] != '@' || strlen(name) > FLAKE_INSTANCE_NAME_MAX || name[1] == 0)
                return false;
        for (const char *p = name; *p; p++)
                if (!isascii(*p) || !(isalnum(*p) || strchr("@=_-", *p)))
                        return false;
        return true;
}

static bool unit_char_ok(char c) {
        return isascii(c) && (isalnum(c) || c == ':' || c == '_' || c == '.');
}

char *unit_name_escape(const char *s) {
        char *r = xmalloc(strlen(s) * 4 + 1), *p = r;

        for (const char *i = s; *i; i++) {
                if (*i == '/')
                        *p++ = '-';
                else if (!unit_char_ok(*i) || (i == s && *i == '.'))
                        p += sprintf(p, "\\x%02x", (unsigned char) *i);
                else
                        *p++ = *i;
        }
        *p = 0;
        return r;
}

int unit_name_unescape(const char *s, char **ret) {
        _cleanup_free_ char *r = xmalloc(strlen(s) + 1);
        char *p = r;

        for (const char *i = s; *i; i++) {
                if (*i == '-')
                        *p++ = '/';
                else if (*i == '\\') {
                        int a, b;
                        if (i[1] != 'x')
                                return -EINVAL;
                        a = unhexchar(i[2]);
                        if (a < 0)
                                return -EINVAL;
                        b = unhexchar(i[3]);
                        if (b < 0)
                                return -EINVAL;
                        *p++ = (char) (a << 4 | b);
                        i += 3;
                } else
                        *p++ = *i;
        }
        *p = 0;
        *ret = TAKE_PTR(r);
        return 0;
}

char *unit_name_build(const char *template_prefix, const char *instance, const char *suffix) {
        _cleanup_free_ char *e = unit_name_escape(instance);
        return xasprintf("%s@%s%s", template_prefix, e, suffix);
}
