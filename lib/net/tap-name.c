/* SPDX-License-Identifier: MIT */
/* TAP device names. Apart from the other names (names.h) so that
 * only programs that need them link libcrypto: it is the costliest library
 * to load, and the pilots start on every call. */
#include <ctype.h>
#include <net/if.h>
#include <openssl/evp.h>

#include "macro.h"
#include "tap-name.h"

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
