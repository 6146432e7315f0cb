/* SPDX-License-Identifier: MIT */
/* flake-agent: sci's agent server on a Unix socket, for resumed container
 * flakes (podman-pilot(8), flake-agent-protocol(7)). podman-pilot mounts
 * this static binary read-only into the container and makes it the
 * container's main process (under podman's --init); each call of the flake
 * is then one session on the socket instead of a podman exec. Sessions run
 * as the agent runs: the container's user, environment and working
 * directory, what podman exec gives. */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "agent-server.h"
#include "sci-util.h"

int main(int argc, char *argv[]) {
        static const struct option opts[] = {
                { "listen", required_argument, NULL, 'l' },
                {}
        };
        AgentServerConfig c = { .transport = AGENT_TRANSPORT_UNIX, .resume = true, .check_peer = true };
        sigset_t ss;
        int o, r;

        while ((o = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (o) {
                case 'l':
                        c.path = optarg;
                        break;
                default:
                        return EXIT_FAILURE;
                }
        if (!c.path || optind < argc) {
                sci_log("usage: flake-agent --listen PATH");
                return EXIT_FAILURE;
        }
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &ss, NULL);
        r = agent_server_run(&c);
        if (r < 0) {
                sci_log("listening on %s failed: %s", c.path, strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
