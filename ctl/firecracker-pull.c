/* SPDX-License-Identifier: MIT */
#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "strv.h"

/* Image downloads live in the flake-pull helper (libcurl, libarchive), which
 * flake-pull@.service runs too; flake-ctl does not link those libraries. */
int verb_firecracker_pull(Ctl *ctl, int argc, char *argv[]) {
        _cleanup_free_ char *helper = path_join(flake_path(FLAKE_PATH_LIBEXECDIR), "flake-pull");
        _cleanup_strv_free_ char **args = NULL;

        /* flake-ctl's version, as for every other command (the options are
         * the helper's: no value of theirs is spelled like this). */
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (ctl_arg_is_version(argv[i]))
                        return ctl_print_version();

        strv_extend(&args, helper);
        strv_extend(&args, "vm");
        if (ctl->user && getuid() != 0)
                strv_extend(&args, "--user");
        strv_extend_strv(&args, argv + 1);

        fflush(stdout);
        execv(helper, args);
        return log_error_errno(errno, "Failed to run %s: %m", helper);
}
