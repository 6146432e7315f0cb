/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef enum AgentTransport {
        AGENT_TRANSPORT_SERIAL,   /* a virtio-serial port: sessions multiplexed */
        AGENT_TRANSPORT_VSOCK,    /* AF_VSOCK port 52: one session per connection */
        AGENT_TRANSPORT_UNIX,     /* a Unix socket (flake-agent, sci's test mode): like vsock */
} AgentTransport;

typedef struct AgentServerConfig {
        AgentTransport transport;
        const char *path;         /* serial device or Unix socket path */
        bool resume;              /* serve forever; else end after one session */
        /* Unix socket reachable by others (flake-agent in a container: the
         * socket is 0666 in a directory the container's users share): only
         * peers allowed by agent_unix_peer_allowed() get a session. */
        bool check_peer;
} AgentServerConfig;

/* Runs the agent until it is done: after the first session in one-shot mode,
 * never in resume mode (unless the transport fails). Also reaps every child,
 * adopted orphans included (sci is PID 1). SIGCHLD must be blocked. Returns 0
 * or a negative errno. */
int agent_server_run(const AgentServerConfig *c);

/* Finds /dev/vportNpM for the virtio-serial port with the given name (udev
 * does not run in a sci guest, so /dev/virtio-ports/ may not exist). */
int agent_find_serial_port(const char *name, char **ret);

/* Whether a connection accepted on the agent's vsock port may have a
 * session: only one from the host (VMADDR_CID_HOST). Anything else is a
 * process in the guest (VMADDR_CID_LOCAL loopback) or another VM, which must
 * not run programs as the agent does (as root). peer is what accept()
 * returned, len its length. */
bool agent_peer_allowed(const struct sockaddr *peer, socklen_t len);

/* Whether a Unix socket peer (SO_PEERCRED, as seen in the agent's user
 * namespace) may have a session from an agent running as self: root (the
 * pilot on the host: rootful, or the owner of a rootless container's user
 * namespace) and the agent's own user, who gains nothing by it, since
 * sessions run as the agent does. Nobody else: a process of another user in
 * the container must not run programs as the agent's user. */
bool agent_unix_peer_allowed(uid_t peer, uid_t self);
