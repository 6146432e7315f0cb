/* SPDX-License-Identifier: MIT */
/* Test tool: runs one agent session over a Unix socket (the runner's
 * agent.sock, or sci's --agent-unix test mode) or a Firecracker vsock socket
 * and exits with the program's status, as firecracker-pilot does, without
 * any flake around it. Usage: agent-run (-u SOCK | -v UDS) -- ARGV... */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-protocol.h"

int main(int argc, char *argv[]) {
        AgentClientFailure failure;
        int fd, r, status = 0, o;
        char msg[256] = {};
        const char *u = NULL, *v = NULL;

        while ((o = getopt(argc, argv, "+u:v:")) >= 0)
                switch (o) {
                case 'u': u = optarg; break;
                case 'v': v = optarg; break;
                default: return 2;
                }
        if ((!u == !v) || optind >= argc)
                return 2;

        fd = u ? agent_connect_unix(u) : agent_connect_vsock_uds(v, AGENT_VSOCK_PORT, 5000);
        if (fd < 0) {
                fprintf(stderr, "agent-run: connect: %s\n", strerror(-fd));
                return 124;
        }
        r = agent_client_handshake(fd, 10000);
        if (r < 0) {
                fprintf(stderr, "agent-run: handshake: %s\n", strerror(-r));
                return 124;
        }
        r = agent_client_run(fd, argv + optind, NULL, &failure, &status, msg, sizeof(msg));
        if (r < 0) {
                fprintf(stderr, "agent-run: %s\n", strerror(-r));
                return 125;
        }
        if (failure == AGENT_CLIENT_LOST) {
                fprintf(stderr, "agent-run: connection lost\n");
                return 122;
        }
        if (failure == AGENT_CLIENT_EXEC_FAILED) {
                fprintf(stderr, "agent-run: %s\n", msg);
                return status == ENOENT ? 127 : 126;
        }
        return status;
}
