/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>

#include "size.h"
#include "macro.h"

static const struct {
        const char *suffix;
        uint64_t factor;
} units[] = {
        { "",    1 },
        { "b",   1 },
        { "k",   1024ULL },                   { "kib", 1024ULL },                   { "kb", 1000ULL },
        { "m",   1024ULL * 1024 },            { "mib", 1024ULL * 1024 },            { "mb", 1000ULL * 1000 },
        { "g",   1024ULL * 1024 * 1024 },     { "gib", 1024ULL * 1024 * 1024 },     { "gb", 1000ULL * 1000 * 1000 },
        { "t",   1ULL << 40 },       { "tib", 1ULL << 40 },       { "tb", 1000ULL * 1000 * 1000 * 1000 },
        { "p",   1ULL << 50 },       { "pib", 1ULL << 50 },       { "pb", 1000ULL * 1000 * 1000 * 1000 * 1000 },
};

int parse_size(const char *s, uint64_t *ret) {
        uint64_t whole = 0, factor = 0;
        long double frac = 0, scale = 0.1L;
        const char *p = s;
        char unit[4];
        size_t n = 0;

        if (!s)
                return -EINVAL;
        while (isspace((unsigned char) *p))
                p++;
        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++, scale /= 10)
                        frac += (*p - '0') * scale;
        }
        while (isspace((unsigned char) *p))
                p++;
        for (; *p && !isspace((unsigned char) *p); p++) {
                if (n >= sizeof(unit) - 1)
                        return -EINVAL;
                unit[n++] = (char) tolower((unsigned char) *p);
        }
        unit[n] = 0;
        while (isspace((unsigned char) *p))
                p++;
        if (*p)
                return -EINVAL;

        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(unit, units[i].suffix)) {
                        factor = units[i].factor;
                        break;
                }
        if (factor == 0)
                return -EINVAL;
        if (whole > UINT64_MAX / factor)
                return -ERANGE;
        *ret = whole * factor + (uint64_t) llroundl(frac * (long double) factor);
        return 0;
}

const char *format_size(char *buf, size_t len, uint64_t bytes) {
        static const char * const sfx[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        long double v = (long double) bytes;
        size_t i = 0;

        while (v >= 1024 && i < ELEMENTSOF(sfx) - 1) {
                v /= 1024;
                i++;
        }
        if (i == 0)
                snprintf(buf, len, "%" PRIu64 "B", bytes);
        else
                snprintf(buf, len, "%.1Lf%s", v, sfx[i]);
        return buf;
}
