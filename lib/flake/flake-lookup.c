/* SPDX-License-Identifier: MIT */
#include <unistd.h>

#include "fileio.h"
#include "flake-lookup.h"
#include "log.h"
#include "paths.h"

int flake_lookup(const char *app, FlakeConfig *ret_config, Flake **ret_flake, FlakeDiagnostics *diag,
                 char **ret_searched) {
        _cleanup_free_ char *system_dir = NULL;
        FlakeConfig user = {};
        int r;

        r = flake_config_load_system(ret_config);
        if (r < 0)
                return r;
        r = flake_load(ret_config->flakes_dir, app, ret_flake, diag);
        if (r != -ENOENT || getuid() == 0)
                goto done;

        /* A user without "flake-ctl init --user" simply has no flakes: no
         * message about the missing setup for every system-flake typo. */
        if (!path_exists(flake_user_config_path()))
                goto done;
        r = flake_config_load_user(&user);
        if (r < 0)
                return r;               /* malformed: logged, with the file */
        system_dir = TAKE_PTR(ret_config->flakes_dir);
        flake_config_done(ret_config);
        *ret_config = user;
        r = flake_load(ret_config->flakes_dir, app, ret_flake, diag);

done:
        if (r == -ENOENT && ret_searched)
                *ret_searched = system_dir ? xasprintf("%s and %s", system_dir, ret_config->flakes_dir)
                                           : xstrdup(ret_config->flakes_dir);
        return r;
}
