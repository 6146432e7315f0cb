/* SPDX-License-Identifier: MIT */
#pragma once

/* The host side of an agent session (flake-agent-protocol(7)): connecting
 * over the VM's transport, and relaying the calling process's stdio, window
 * size and signals to one program in the guest. */

#include <stdint.h>

/* Connects to a Unix socket (the runner's agent.sock). */
int agent_connect_unix(const char *path);

/* Connects to Firecracker's hybrid vsock socket and asks for the guest
 * port: "CONNECT <port>\n", expecting "OK <n>\n". -ECONNREFUSED when nothing
 * listens yet (Firecracker then just closes the connection), -EPROTO on any
 * other reply. timeout_ms bounds the wait for the reply. */
int agent_connect_vsock_uds(const char *uds_path, unsigned port, int timeout_ms);

/* Waits up to timeout_ms for the agent's HELLO on fd and answers it.
 * -ETIMEDOUT if nothing came, -EPROTO/-EPROTONOSUPPORT if something else
 * did, -ECONNRESET if the peer closed. */
int agent_client_handshake(int fd, int timeout_ms);

typedef enum AgentClientFailure {
        AGENT_CLIENT_OK,
        AGENT_CLIENT_EXEC_FAILED,     /* ERROR from the agent: *ret_status is its errno */
        AGENT_CLIENT_LOST,            /* connection ended before EXIT */
} AgentClientFailure;

/* Runs argv in the guest (after the handshake) and relays until the program
 * has exited. A terminal on stdin and stdout gets a pty session, raw mode
 * (restored before returning) and window-size updates; SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT are forwarded to the program. On AGENT_CLIENT_OK,
 * *ret_status is the program's exit status, or 128+N if signal N killed it.
 * Returns a negative errno on local failures. */
int agent_client_run(int fd, char * const *argv, char * const *envp, AgentClientFailure *ret_failure,
                     int *ret_status, char *errmsg, size_t errmsg_size);
