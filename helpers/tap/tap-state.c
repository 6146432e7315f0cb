/* SPDX-License-Identifier: MIT */
#include <pwd.h>

#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "strv.h"
#include "tap.h"

void tap_state_done(TapState *s) {
        free(s->instance);
        free(s->tap);
        free(s->config.uplink);
        free(s->config.bridge);
        strv_free(s->config.nameservers);
        free(s->config.mac);
        *s = (TapState) {};
}

char *tap_state_dir(void) {
        return path_join(flake_path(FLAKE_PATH_RUNTIME_DIR), "tap");
}

static char *state_path(const char *tap) {
        _cleanup_free_ char *dir = tap_state_dir();
        _cleanup_free_ char *file = xasprintf("%s.state", tap);

        return path_join(dir, file);
}

int tap_state_write(const TapState *s) {
        _cleanup_free_ char *path = state_path(s->tap), *text = NULL;
        _cleanup_free_ char *host = in_addr_prefix_to_string(&s->config.host_address);
        _cleanup_free_ char *guest = in_addr_prefix_to_string(&s->config.guest_address);

        text = xasprintf("instance=%s\ntap=%s\nmode=%s\nuplink=%s\nbridge=%s\n"
                         "host_address=%s\nguest_address=%s\nowner=%d\n",
                         s->instance, s->tap, network_mode_to_string(s->config.mode),
                         strempty(s->config.uplink), strempty(s->config.bridge),
                         host, guest, s->owner == (uid_t) -1 ? -1 : (int) s->owner);
        return write_file_atomic(path, text, strlen(text), 0644);
}

static int state_parse(const char *path, char *text, TapState *ret) {
        TapState s = { .owner = (uid_t) -1 };
        char *line, *save = NULL;
        int r = 0;

        for (line = strtok_r(text, "\n", &save); line && r >= 0; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                const char *k = line, *v;

                if (!eq) {
                        r = -EBADMSG;
                        break;
                }
                *eq = '\0';
                v = eq + 1;
                if (streq(k, "instance"))
                        s.instance = xstrdup(v);
                else if (streq(k, "tap"))
                        s.tap = xstrdup(v);
                else if (streq(k, "mode"))
                        r = s.config.mode = network_mode_from_string(v);
                else if (streq(k, "uplink"))
                        s.config.uplink = isempty(v) ? NULL : xstrdup(v);
                else if (streq(k, "bridge"))
                        s.config.bridge = isempty(v) ? NULL : xstrdup(v);
                else if (streq(k, "host_address"))
                        r = in_addr_prefix_from_string(v, 0xff, &s.config.host_address);
                else if (streq(k, "guest_address"))
                        r = in_addr_prefix_from_string(v, 0xff, &s.config.guest_address);
                else if (streq(k, "owner"))
                        s.owner = (uid_t) atoi(v);
        }
        if (r >= 0 && (!s.instance || !s.tap || !network_ifname_is_valid(s.tap) ||
                       (s.config.uplink && !network_ifname_is_valid(s.config.uplink)) ||
                       (s.config.bridge && !network_ifname_is_valid(s.config.bridge))))
                r = -EBADMSG;
        if (r < 0) {
                tap_state_done(&s);
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: malformed state file", path);
        }
        *ret = s;
        return 0;
}

int tap_state_read(const char *tap, TapState *ret) {
        _cleanup_free_ char *path = state_path(tap), *text = NULL;
        int r;

        r = read_full_file(path, &text, NULL);
        if (r < 0)
                return r == -ENOENT ? r : log_error_errno(r, "Failed to read %s: %s", path, strerror(-r));
        return state_parse(path, text, ret);
}

int tap_state_remove(const char *tap) {
        _cleanup_free_ char *path = state_path(tap);

        if (unlink(path) < 0 && errno != ENOENT)
                return log_error_errno(errno, "Failed to remove %s: %m", path);
        return 0;
}

int tap_state_read_all(TapState **ret, size_t *ret_n) {
        _cleanup_free_ char *dir = tap_state_dir();
        _cleanup_strv_free_ char **files = NULL;
        TapState *list = NULL;
        size_t n = 0;
        int r;

        r = dir_list(dir, ".state", &files);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to list %s: %s", dir, strerror(-r));

        STRV_FOREACH(f, files) {
                _cleanup_free_ char *tap = xstrndup(*f, strlen(*f) - strlen(".state"));

                list = xrealloc(list, (n + 1) * sizeof(*list));
                r = tap_state_read(tap, &list[n]);
                if (r >= 0)
                        n++;
                else if (r != -ENOENT) {        /* ENOENT: removed while we listed, not ours to keep */
                        for (size_t i = 0; i < n; i++)
                                tap_state_done(&list[i]);
                        free(list);
                        return r;
                }
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

static bool prefix_equal(const InAddrPrefix *a, const InAddrPrefix *b) {
        return a->address.s_addr == b->address.s_addr && a->prefixlen == b->prefixlen;
}

bool tap_state_equal(const TapState *a, const TapState *b) {
        return streq_ptr(a->instance, b->instance) && streq_ptr(a->tap, b->tap) &&
                a->config.mode == b->config.mode &&
                streq_ptr(a->config.uplink, b->config.uplink) &&
                streq_ptr(a->config.bridge, b->config.bridge) &&
                prefix_equal(&a->config.host_address, &b->config.host_address) &&
                prefix_equal(&a->config.guest_address, &b->config.guest_address) &&
                a->owner == b->owner;
}
