/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <net/if.h>
#include <openssl/evp.h>

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

static bool ifname_char_ok(char c) {
        return isascii(c) && (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@');
}

char *tap_name_for_instance(const char *instance) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        char prefix[5] = {};
        size_t n = 0;
        bool plain = strlen("tap-") + strlen(instance) < IFNAMSIZ;

        for (const char *p = instance; *p && plain; p++)
                if (!ifname_char_ok(*p))
                        plain = false;
        if (plain)
                return xasprintf("tap-%s", instance);

        /* 4 ("tap-") + 4 (readable prefix) + 1 + 6 (hash) = 15 bytes. */
        for (const char *p = instance; *p && n < 4; p++)
                if (isascii(*p) && isalnum(*p))
                        prefix[n++] = *p;
        if (!EVP_Digest(instance, strlen(instance), md, &md_len, EVP_sha256(), NULL))
                abort();
        return xasprintf("tap-%s-%02x%02x%02x", prefix, md[0], md[1], md[2]);
}
