/* SPDX-License-Identifier: MIT */
/* Calls flake_systemd_reload() as flake-ctl register/remove do, and exits
 * with its result: 0 when systemd was reloaded or when there is no systemd
 * to reload. "--user" reloads the user manager. */

#include "log.h"
#include "systemd-reload.h"

int main(int argc, char *argv[]) {
        log_setup("test-systemd-reload", LOG_TARGET_STDERR);
        log_set_max_level(LOG_DEBUG);
        return flake_systemd_reload(argc > 1 && streq(argv[1], "--user")) < 0 ? 1 : 0;
}
