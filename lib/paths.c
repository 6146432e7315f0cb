/* SPDX-License-Identifier: MIT */
#include <pwd.h>

#include "build-config.h"
#include "fileio.h"
#include "macro.h"
#include "paths.h"

static const struct {
        const char *env;
        const char *def;
        bool under_root;
} path_table[_FLAKE_PATH_MAX] = {
        [FLAKE_PATH_CONFIG]          = { "FLAKE_CONFIG",          SYSCONFDIR "/flakes.yml", true },
        [FLAKE_PATH_TEMPLATE_DIR]    = { "FLAKE_TEMPLATE_DIR",    SYSCONFDIR "/flakes", true },
        [FLAKE_PATH_FLAKES_DIR]      = { NULL,                    "/usr/share/flakes", true },
        [FLAKE_PATH_IDS_DIR]         = { NULL,                    "/tmp/flakes", true },
        [FLAKE_PATH_STORAGE_CONF]    = { NULL,                    SYSCONFDIR "/flakes/storage.conf", true },
        [FLAKE_PATH_FIRECRACKER_DIR] = { "FLAKE_FIRECRACKER_DIR", "/var/lib/firecracker", true },
        [FLAKE_PATH_RUNTIME_DIR]     = { "FLAKE_RUNTIME_DIR",     "/run/flakes", true },
        /* Binaries are not looked for under FLAKE_ROOT: a private root holds
         * registrations, not an installation. */
        [FLAKE_PATH_BINDIR]          = { "FLAKE_BINDIR",          BINDIR, false },
        [FLAKE_PATH_LIBEXECDIR]      = { "FLAKE_LIBEXECDIR",      LIBEXECDIR, false },
        [FLAKE_PATH_SCI]             = { "FLAKE_SCI",             LIBDIR "/flake-pilot/sci", false },
};

static char *resolved[_FLAKE_PATH_MAX];

const char *flake_root(void) {
        const char *r = getenv("FLAKE_ROOT");
        return r && r[0] == '/' ? r : "";
}

char *flake_root_path(const char *path) {
        if (isempty(flake_root()))
                return xstrdup(path);
        return path_join(flake_root(), path);
}

const char *flake_path(FlakePath id) {
        if (!resolved[id]) {
                const char *e = path_table[id].env ? getenv(path_table[id].env) : NULL;
                if (!isempty(e))
                        resolved[id] = xstrdup(e);
                else if (path_table[id].under_root)
                        resolved[id] = flake_root_path(path_table[id].def);
                else
                        resolved[id] = xstrdup(path_table[id].def);
        }
        return resolved[id];
}

char *flake_pilot_path(const char *pilot) {
        return path_join(flake_path(FLAKE_PATH_BINDIR), pilot);
}

const char *flake_home_dir(void) {
        static char *home;
        const char *e = getenv("HOME");

        if (home)
                return home;
        if (path_is_absolute(e))
                home = xstrdup(e);
        else {
                struct passwd *pw = getpwuid(getuid());
                home = xstrdup(pw && pw->pw_dir ? pw->pw_dir : "/");
        }
        return home;
}

const char *flake_user_config_path(void) {
        static char *p;
        const char *e = getenv("FLAKE_USER_CONFIG");

        if (!p)
                p = !isempty(e) ? xstrdup(e) : path_join(flake_home_dir(), ".config/flakes.yml");
        return p;
}

char *flake_vm_registry_dir(bool user) {
        if (user)
                return path_join(flake_home_dir(), ".config/flakes/firecracker");
        return xstrdup(flake_path(FLAKE_PATH_FIRECRACKER_DIR));
}

char *flake_vm_image_dir(bool user, const char *name) {
        _cleanup_free_ char *r = flake_vm_registry_dir(user), *images = path_join(r, "images");
        return path_join(images, name);
}
