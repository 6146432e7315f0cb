/* SPDX-License-Identifier: MIT */
#include <signal.h>

#include "log.h"
#include "pilot.h"

static volatile pid_t launch_child = 0;

/* Signals sent to the pilot (kill, systemctl stop of the scope) go on to
 * podman, which proxies them to the app. Signals from the terminal
 * (Ctrl-C) already reach podman directly, being in the same process group;
 * forwarding those as well would deliver them twice. */
static void forward_signal(int sig, siginfo_t *si, void *unused) {
        if (launch_child > 0 && si->si_code != SI_KERNEL)
                (void) kill(launch_child, sig);
}

int launch_podman(const PodmanContext *p, char * const *args) {
        struct sigaction sa = {
                .sa_sigaction = forward_signal,
                .sa_flags = SA_SIGINFO | SA_RESTART,
        };
        pid_t pid;
        int r;

        sigemptyset(&sa.sa_mask);
        for (int sig = SIGHUP; sig <= SIGTERM; sig++)
                if (sig == SIGHUP || sig == SIGINT || sig == SIGTERM || sig == SIGQUIT)
                        (void) sigaction(sig, &sa, NULL);

        r = podman_async(p, args, 0, &pid);
        if (r < 0)
                return r;
        launch_child = pid;
        r = spawn_wait_pid(pid);
        launch_child = 0;
        return r;
}
