/* SPDX-License-Identifier: MIT */
#include <ctype.h>

#include "names.h"
#include "macro.h"
#include "utf8.h"

bool flake_app_name_is_valid(const char *name) {
        size_t l;

        if (isempty(name) || name[0] == '.')
                return false;
        l = strlen(name);
        if (l > FLAKE_APP_NAME_MAX)
                return false;
        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == '@' || (unsigned char) *p <= ' ' || *p == 0x7f)
                        return false;
        /* Also refuses non-breaking C1 controls and bytes that are not UTF-8. */
        return text_check(name) == 0;
}

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* alpha-numeric [separator alpha-numeric]*, separator := [_.] | "__" | "-"+ */
static bool path_component_is_valid(const char *s, size_t n) {
        size_t i = 0;

        if (n == 0 || !is_lower_alnum(s[0]))
                return false;
        while (i < n) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += i + 1 < n && s[i + 1] == '_' ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        return false;
                if (i >= n || !is_lower_alnum(s[i]))
                        return false;
        }
        return true;
}

/* host[:port] with host a dotted name of [A-Za-z0-9-] labels (no dash at
 * either end of a label) or a bracketed IPv6 address. */
static bool domain_is_valid(const char *s, size_t n) {
        const char *colon;
        size_t host_len;

        if (n > 0 && s[0] == '[') {
                const char *end = memchr(s, ']', n);
                if (!end || end == s + 1)
                        return false;
                for (const char *p = s + 1; p < end; p++)
                        if (!isxdigit((unsigned char) *p) && *p != ':' && *p != '.')
                                return false;
                host_len = (size_t) (end - s) + 1;
                colon = host_len < n ? s + host_len : NULL;
                if (colon && *colon != ':')
                        return false;
        } else {
                colon = memchr(s, ':', n);
                host_len = colon ? (size_t) (colon - s) : n;
                if (host_len == 0)
                        return false;
                for (size_t i = 0, start = 0; i <= host_len; i++) {
                        if (i < host_len && s[i] != '.') {
                                if (!isascii(s[i]) || !(isalnum(s[i]) || s[i] == '-'))
                                        return false;
                                continue;
                        }
                        /* label s[start, i) */
                        if (i == start || s[start] == '-' || s[i - 1] == '-')
                                return false;
                        start = i + 1;
                }
        }
        if (colon) {
                if (colon + 1 == s + n)
                        return false;
                for (const char *p = colon + 1; p < s + n; p++)
                        if (!isdigit((unsigned char) *p))
                                return false;
        }
        return true;
}

static bool tag_is_valid(const char *s, size_t n) {
        if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isascii(s[i]) || !(isalnum(s[i]) || strchr("_.-", s[i])))
                        return false;
        return true;
}

/* ALGORITHM:HEX, ALGORITHM made of [A-Za-z][A-Za-z0-9]* joined by [+._-],
 * HEX at least 32 hex digits. */
static bool digest_is_valid(const char *s) {
        const char *colon = strchr(s, ':');
        bool component_start = true;

        if (!colon || colon == s || strlen(colon + 1) < 32)
                return false;
        for (const char *p = s; p < colon; p++) {
                if (component_start ? !isalpha((unsigned char) *p) || !isascii(*p)
                                    : !(isascii(*p) && isalnum(*p)) && !strchr("+._-", *p))
                        return false;
                component_start = strchr("+._-", *p) != NULL;
        }
        if (component_start)
                return false;
        for (const char *p = colon + 1; *p; p++)
                if (!isxdigit((unsigned char) *p))
                        return false;
        return true;
}

bool container_image_ref_is_valid(const char *ref) {
        const char *at, *slash, *last_slash, *colon, *path;
        size_t name_len;

        if (isempty(ref))
                return false;
        at = strchr(ref, '@');
        if (at && !digest_is_valid(at + 1))
                return false;
        name_len = at ? (size_t) (at - ref) : strlen(ref);
        if (name_len == 0)
                return false;

        /* A tag is after the last ':' that follows the last '/'. */
        last_slash = memrchr(ref, '/', name_len);
        colon = memrchr(last_slash ? last_slash : ref, ':', name_len - (size_t) (last_slash ? last_slash - ref : 0));
        if (colon) {
                if (!tag_is_valid(colon + 1, name_len - (size_t) (colon + 1 - ref)))
                        return false;
                name_len = (size_t) (colon - ref);
        }
        if (name_len == 0 || name_len > 255)
                return false;

        /* The first component is a registry when it looks like a host:
         * has a '.' or a ':', is "localhost", or has upper case letters. */
        path = ref;
        slash = memchr(ref, '/', name_len);
        if (slash) {
                size_t l = (size_t) (slash - ref);
                bool upper = false;

                for (size_t i = 0; i < l; i++)
                        upper = upper || isupper((unsigned char) ref[i]);
                if (memchr(ref, '.', l) || memchr(ref, ':', l) || (l == 9 && strneq(ref, "localhost", 9)) || upper) {
                        if (!domain_is_valid(ref, l))
                                return false;
                        path = slash + 1;
                }
        }
        for (const char *p = path; p <= ref + name_len;) {
                const char *e = memchr(p, '/', (size_t) (ref + name_len - p));
                if (!e)
                        e = ref + name_len;
                if (!path_component_is_valid(p, (size_t) (e - p)))
                        return false;
                p = e + 1;
        }
        return true;
}

bool user_name_is_valid(const char *name) {
        size_t l;

        if (isempty(name) || name[0] == '-' || name[0] == '.')
                return false;
        l = strlen(name);
        if (l > 32)
                return false;
        for (size_t i = 0; i < l; i++) {
                if (name[i] == '$' && i == l - 1 && i > 0)
                        continue;
                if (!isascii(name[i]) || !(isalnum(name[i]) || strchr("_.-", name[i])))
                        return false;
        }
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
