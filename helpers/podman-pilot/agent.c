/* SPDX-License-Identifier: MIT */
/* The agent of resumed containers: flake-agent (helpers/sci/flake-agent.c)
 * as the container's main process, and each call a session on its socket
 * (flake-agent-protocol(7)) instead of a podman exec.
 *
 * On the host, the instance's agent directory is <meta>/<instance>.agent
 * (0700, in the caller's private meta dir: nobody else on the host reaches
 * what is below it), holding socket/ (01777). Only socket/ is mounted into
 * the container: whatever user the container runs as can create the socket
 * there, the sticky bit keeps the container's other users from replacing it,
 * and the agent itself decides who gets a session (agent_unix_peer_allowed()). */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "agent-client.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "pilot.h"
#include "strv.h"

/* Inside the container: the agent binary (mounted read-only) and the
 * directory of its socket. Under /run, which podman keeps writable (a
 * tmpfs) even for --read-only containers, so the mount points can be made. */
#define AGENT_CONTAINER_BINARY "/run/flake-agent/flake-agent"
#define AGENT_CONTAINER_SOCKET_DIR "/run/flake-agent/socket"
#define AGENT_SOCKET_NAME "agent.sock"
#define AGENT_HOST_BINARY_NAME "flake-agent"

/* How long a call waits for the agent of a container that was just started,
 * and for its HELLO. */
#define AGENT_START_TIMEOUT_MSEC 10000
#define AGENT_RETRY_NSEC (5 * 1000 * 1000L)
#define AGENT_HELLO_TIMEOUT_MSEC 5000

static char *agent_dir(const char *meta_dir, const char *instance) {
        return xasprintf("%s/%s" PODMAN_AGENT_DIR_SUFFIX, meta_dir, instance);
}

int agent_remove_dir(const char *meta_dir, const char *instance) {
        _cleanup_free_ char *dir = agent_dir(meta_dir, instance);

        return rm_rf(dir);
}

/* A fresh agent directory; returns its socket/ subdirectory. */
static int agent_make_dir(const char *dir, char **ret_socket_dir) {
        _cleanup_free_ char *socket_dir = xasprintf("%s/socket", dir);
        int r;

        r = rm_rf(dir);
        if (r < 0)
                return r;
        if (mkdir(dir, 0700) < 0 || mkdir(socket_dir, 0700) < 0)
                return -errno;
        /* chmod, not the mode of mkdir: the umask must not take the bits. */
        if (chmod(socket_dir, 01777) < 0)
                return -errno;
        *ret_socket_dir = TAKE_PTR(socket_dir);
        return 0;
}

int agent_create_options(const char *meta_dir, const char *instance, const char *image, char ***args) {
        _cleanup_free_ char *binary = xasprintf("%s/" AGENT_HOST_BINARY_NAME, flake_path(FLAKE_PATH_LIBEXECDIR));
        _cleanup_free_ char *dir = agent_dir(meta_dir, instance), *socket_dir = NULL;
        _cleanup_free_ char *mount_binary = NULL, *mount_socket = NULL;
        int r;

        if (access(binary, X_OK) < 0) {
                log_debug("No agent at %s (%m): calls into the container of %s use podman exec", binary, instance);
                return 0;
        }
        /* --mount separates its fields with commas. */
        if (strpbrk(dir, ",") || strpbrk(binary, ",")) {
                log_debug("%s or %s has a comma, which podman --mount cannot take: calls use podman exec",
                          dir, binary);
                return 0;
        }
        r = agent_make_dir(dir, &socket_dir);
        if (r < 0)
                return log_error_errno(r, "Cannot create the agent directory %s: %m", dir);

        mount_binary = xasprintf("type=bind,source=%s,destination=" AGENT_CONTAINER_BINARY ",ro=true", binary);
        /* relabel: the container may use the directory under SELinux (a
         * no-op elsewhere); it is this instance's alone. */
        mount_socket = xasprintf("type=bind,source=%s,destination=" AGENT_CONTAINER_SOCKET_DIR ",relabel=private",
                                 socket_dir);
        strv_extend(args, "--mount");
        strv_extend(args, mount_binary);
        strv_extend(args, "--mount");
        strv_extend(args, mount_socket);
        strv_extend(args, "--entrypoint");
        strv_extend(args, AGENT_CONTAINER_BINARY);
        strv_extend(args, image);
        strv_extend(args, "--listen");
        strv_extend(args, AGENT_CONTAINER_SOCKET_DIR "/" AGENT_SOCKET_NAME);
        return 1;
}

/* Connects to the agent's socket through the directory's fd, so that the
 * length of the meta dir's path does not matter (sun_path is short). */
static int agent_connect_dir(int dir_fd) {
        _cleanup_free_ char *path = xasprintf("/proc/self/fd/%d/" AGENT_SOCKET_NAME, dir_fd);

        return agent_connect_unix(path);
}

/* Connects and greets. -ENOENT: the container has no agent; -ECONNREFUSED
 * (or another error): it has one, but it does not answer. With wait, a
 * container just started gets time to bring its agent up. */
static int agent_open(const char *meta_dir, const char *instance, bool wait, int *ret_fd) {
        _cleanup_free_ char *socket_dir = NULL, *dir = agent_dir(meta_dir, instance);
        _cleanup_close_ int dir_fd = -EBADF, fd = -EBADF;
        struct timespec delay = { .tv_nsec = AGENT_RETRY_NSEC };
        unsigned tries = 0;
        int r;

        socket_dir = xasprintf("%s/socket", dir);
        dir_fd = open(socket_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return -ENOENT;
        for (;;) {
                fd = agent_connect_dir(dir_fd);
                if (fd >= 0 || !wait || ++tries >= AGENT_START_TIMEOUT_MSEC / (AGENT_RETRY_NSEC / 1000000))
                        break;
                (void) nanosleep(&delay, NULL);
        }
        if (fd < 0)
                /* The socket dir is there, so the container was made with an
                 * agent: a missing socket means it is not up. */
                return fd == -ENOENT ? -ECONNREFUSED : fd;
        r = agent_client_handshake(fd, AGENT_HELLO_TIMEOUT_MSEC);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The status podman exec gives when it cannot start the program. */
static int exec_failure_status(int error) {
        if (error == ENOENT)
                return 127;
        if (error == EACCES || error == ENOEXEC || error == EISDIR)
                return 126;
        return PILOT_EXIT_FAILURE;
}

int agent_call(const char *meta_dir, const char *instance, char * const *argv, bool tty, bool wait,
               int *ret_status) {
        _cleanup_close_ int fd = -EBADF;
        char *envp[] = { NULL };
        AgentClientFailure failure;
        char msg[256] = "";
        int r, status = 0;

        r = agent_open(meta_dir, instance, wait, &fd);
        if (r == -ENOENT)
                return AGENT_CALL_NONE;
        if (r < 0) {
                log_debug_errno(r, "The agent of %s does not answer: %m", instance);
                return AGENT_CALL_DOWN;
        }
        r = agent_client_run_tty(fd, argv, envp, tty, &failure, &status, msg, sizeof(msg));
        if (r < 0) {
                log_error_errno(r, "The session with the agent of %s failed: %m", instance);
                *ret_status = PILOT_EXIT_FAILURE;
                return AGENT_CALL_DONE;
        }
        switch (failure) {
        case AGENT_CLIENT_OK:
                *ret_status = status;
                return AGENT_CALL_DONE;
        case AGENT_CLIENT_EXEC_FAILED:
                /* One line, as podman exec would print. */
                log_error("%s", msg);
                *ret_status = exec_failure_status(status);
                return AGENT_CALL_DONE;
        case AGENT_CLIENT_LOST:
        default:
                return AGENT_CALL_LOST;
        }
}
