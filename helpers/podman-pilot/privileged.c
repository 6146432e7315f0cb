/* SPDX-License-Identifier: MIT */
/* runas-root flakes for callers who are not root: the launch service.
 *
 * Rootful podman is root's. The original tool ran it through sudo, with the
 * caller's environment choosing the registration (FLAKE_ROOT, FLAKES_DIR,
 * the user's own flakes), the podman binary (FLAKE_PODMAN, PATH), podman's
 * configuration (CONTAINERS_CONF) and the %VAR values in the options: any
 * sudoers rule that made such flakes work gave root away. Asking systemd
 * over D-Bus (StartTransientUnit) is no better: polkit sees no unit name for
 * it, so a rule for group flake would allow any command as root.
 *
 * Instead, a socket-activated service (units/flake-launch.socket,
 * flake-launch@.service: one instance per connection, as root, from an
 * environment of its own) runs "podman-pilot --serve". The pilot of the
 * caller connects and sends, in the frames of flake-agent-protocol(7): the
 * app name, @instance, %options and app arguments (one EXEC frame, no
 * environment) with its stdin, stdout and stderr attached (SCM_RIGHTS);
 * then SIGNAL and WINCH frames. The service answers with one EXIT frame,
 * or an ERROR frame when it refuses the caller. Who the caller is comes
 * from the kernel (SO_PEERCRED, SO_PEERGROUPS), never from the request.
 * The protocol is in flake-launch@.service(8). */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <termios.h>
#include <time.h>

#include "agent-protocol.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "paths.h"
#include "pilot.h"
#include "strv.h"
#include "time-util.h"

/* The session id of the one launch on a connection (0 is the connection). */
#define LAUNCH_SESSION 1
/* A connection that has not sent its request by then is dropped: an
 * instance of a root service is not kept waiting by an idle peer. */
#define LAUNCH_REQUEST_TIMEOUT_MS (30 * 1000)
/* The caller's stdin, stdout and stderr, in this order. */
#define LAUNCH_FDS 3

static int safe_close(int fd) {
        if (fd >= 0)
                close(fd);
        return -EBADF;
}

char *launch_socket_path(void) {
        return path_join(flake_path(FLAKE_PATH_RUNTIME_DIR), FLAKE_LAUNCH_SOCKET_NAME);
}

/* Reads one frame (blocking, or within timeout_ms when it is >= 0: for the
 * whole frame, so that a peer trickling bytes cannot stretch it).
 * File descriptors passed with the bytes are appended to fds (at most
 * max_fds; extra ones are closed and counted). 0: a frame; -ECONNRESET: the
 * peer closed; -ETIMEDOUT; -EBADMSG and friends from the decoder. */
static int read_frame(int fd, AgentDecoder *d, AgentFrame *ret, int timeout_ms,
                      int *fds, size_t max_fds, size_t *n_fds) {
        uint64_t deadline = timeout_ms >= 0 ? now_ms() + (uint64_t) timeout_ms : 0;

        for (;;) {
                union {
                        struct cmsghdr cmsg;
                        uint8_t buf[CMSG_SPACE(sizeof(int) * 8)];
                } control;
                struct msghdr mh = {};
                struct iovec iov;
                uint8_t *ptr;
                size_t space;
                ssize_t k;
                int r;

                r = agent_decoder_next(d, ret);
                if (r != 0)
                        return r < 0 ? r : 0;

                if (timeout_ms >= 0) {
                        struct pollfd pfd = { .fd = fd, .events = POLLIN };
                        uint64_t now = now_ms();

                        if (now >= deadline)
                                return -ETIMEDOUT;
                        r = poll(&pfd, 1, (int) (deadline - now));
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r < 0)
                                return -errno;
                        if (r == 0)
                                return -ETIMEDOUT;
                }
                agent_decoder_space(d, &ptr, &space);
                iov = (struct iovec) { ptr, space };
                mh.msg_iov = &iov;
                mh.msg_iovlen = 1;
                mh.msg_control = &control;
                mh.msg_controllen = sizeof(control);
                k = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                                continue;
                        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        int *got = (int *) CMSG_DATA(c);

                        for (size_t i = 0; i < n; i++) {
                                if (n_fds && *n_fds < max_fds)
                                        fds[*n_fds] = got[i];
                                else
                                        close(got[i]);
                                if (n_fds)
                                        (*n_fds)++;
                        }
                }
                if (k == 0)
                        return -ECONNRESET;
                agent_decoder_advance(d, (size_t) k);
        }
}

/* One frame with file descriptors attached to its first byte. */
static int send_frame_with_fds(int fd, uint8_t type, const void *payload, size_t length,
                               const int *fds, size_t n_fds) {
        _cleanup_free_ uint8_t *buf = xmalloc(AGENT_HEADER_SIZE + length);
        union {
                struct cmsghdr cmsg;
                uint8_t buf[CMSG_SPACE(sizeof(int) * LAUNCH_FDS)];
        } control = {};
        size_t total = AGENT_HEADER_SIZE + length, done = 0;
        struct iovec iov;
        struct msghdr mh = {};
        struct cmsghdr *c;

        agent_header_encode(buf, type, LAUNCH_SESSION, (uint32_t) length);
        memcpy(buf + AGENT_HEADER_SIZE, payload, length);

        iov = (struct iovec) { buf, total };
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = &control;
        mh.msg_controllen = sizeof(control);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);

        while (done < total) {
                ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                done += (size_t) k;
                iov = (struct iovec) { buf + done, total - done };
                mh.msg_control = NULL;          /* the fds went with the first bytes */
                mh.msg_controllen = 0;
        }
        return 0;
}

/* ---------------------------------------------------------------- client */

static void window_size(uint16_t *ret_rows, uint16_t *ret_cols) {
        struct winsize ws = {};

        for (int fd = 0; fd <= 2; fd++)
                if (ioctl(fd, TIOCGWINSZ, &ws) == 0)
                        break;
        *ret_rows = ws.ws_row;
        *ret_cols = ws.ws_col;
}

/* What the service is asked to run: the app and the caller's words, parsed
 * again there (so the service validates them itself); the pilot options
 * are all safe to pass: they select an instance of the caller's own, show
 * progress, ask for a terminal, remove the caller's container, tolerate a
 * failing sync or a missing volume path. Nothing else is sent: no
 * environment, no paths. */
static char **request_argv(const char *name, const PilotArgs *a) {
        char **argv = NULL;

        strv_extend(&argv, name);
        if (a->instance_suffix)
                strv_extend(&argv, a->instance_suffix);
        if (a->progress)
                strv_extend(&argv, "%progress");
        if (a->interactive)
                strv_extend(&argv, "%interactive");
        if (a->remove)
                strv_extend(&argv, "%remove");
        if (a->ignore_sync_error)
                strv_extend(&argv, "%ignore_sync_error");
        if (a->ignore_missing_volume_path)
                strv_extend(&argv, "%ignore_missing_volume_path");
        strv_extend(&argv, "--");
        strv_extend_strv(&argv, a->app_args);
        return argv;
}

static int connect_service(const char *name, int *ret) {
        _cleanup_free_ char *path = launch_socket_path();
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct ucred cred;
        socklen_t l = sizeof(cred);
        struct stat st;

        if (strlen(path) >= sizeof(sa.sun_path))
                return log_error_errno(SYNTHETIC_ERRNO(ENAMETOOLONG), "%s: path too long for a socket", path);
        strcpy(sa.sun_path, path);
        if (lstat(path, &st) < 0) {
                if (errno == ENOENT)
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                               "%s runs as root, which needs the launch service: %s does not "
                                               "exist (systemctl enable --now flake-launch.socket)", name, path);
                return log_error_errno(errno, "Cannot access %s: %m", path);
        }
        /* Only root's own service gets the caller's terminal. */
        if (!S_ISSOCK(st.st_mode) || st.st_uid != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s is not a socket owned by root, refusing", path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(errno, "Cannot create a socket: %m");
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                if (errno == EACCES)
                        return log_error_errno(errno, "Cannot connect to %s: %m (%s runs as root: only members "
                                               "of group %s may launch it)", path, name, FLAKE_GROUP_NAME);
                return log_error_errno(errno, "Cannot connect to %s: %m (is flake-launch.socket running?)", path);
        }
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0)
                return log_error_errno(errno, "Cannot get the credentials of %s: %m", path);
        if (cred.uid != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s is served by uid %u, not root, refusing",
                                       path, (unsigned) cred.uid);
        *ret = TAKE_FD(fd);
        return 0;
}

static int exit_from_frame(const AgentFrame *f) {
        AgentExitKind kind;
        uint32_t value;

        if (agent_parse_exit(f, &kind, &value) < 0 || value > 255)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Malformed exit status from the launch service");
        return kind == AGENT_EXIT_SIGNAL ? 128 + (int) value : (int) value;
}

int launch_client(const char *name, const PilotArgs *a) {
        _cleanup_strv_free_ char **argv = request_argv(name, a);
        _cleanup_free_ uint8_t *payload = NULL;
        _cleanup_free_ AgentDecoder *d = xmalloc(sizeof(AgentDecoder));
        _cleanup_close_ int fd = -EBADF, sfd = -EBADF;
        const int stdio[LAUNCH_FDS] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
        AgentExec e = { .argv = argv };
        sigset_t mask, old;
        AgentFrame f;
        size_t size;
        int r, status = -1;

        agent_decoder_init(d);
        if (connect_service(name, &fd) < 0)
                return PILOT_EXIT_FAILURE;

        /* HELLO, or an ERROR saying why we are refused. */
        r = read_frame(fd, d, &f, LAUNCH_REQUEST_TIMEOUT_MS, NULL, 0, NULL);
        if (r >= 0 && f.type == AGENT_ERROR) {
                char msg[512];
                int error;

                if (agent_parse_error(&f, &error, msg, sizeof(msg)) < 0)
                        return log_error("Malformed error from the launch service"), PILOT_EXIT_FAILURE;
                log_error("The launch service refused: %s", msg);
                return PILOT_EXIT_FAILURE;
        }
        if (r < 0 || f.type != AGENT_HELLO)
                return (void) log_error_errno(r < 0 ? r : SYNTHETIC_ERRNO(EBADMSG),
                                              "No greeting from the launch service: %m"), PILOT_EXIT_FAILURE;

        window_size(&e.rows, &e.cols);
        r = agent_exec_encode(&e, &payload, &size);
        if (r < 0)
                return (void) log_error_errno(r, "The arguments for %s do not fit in one request: %m", name),
                       PILOT_EXIT_FAILURE;

        /* From here on, signals for the app go to the service as frames. */
        sigset_forwarded(&mask);
        (void) sigprocmask(SIG_BLOCK, &mask, &old);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0) {
                r = log_error_errno(errno, "Cannot create a signalfd: %m");
                goto finish;
        }

        r = agent_send_hello(fd);
        if (r >= 0)
                r = send_frame_with_fds(fd, AGENT_EXEC, payload, size, stdio, LAUNCH_FDS);
        if (r < 0) {
                log_error_errno(r, "Cannot send the request to the launch service: %m");
                goto finish;
        }

        while (status < 0) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = log_error_errno(errno, "poll: %m");
                        goto finish;
                }
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        if (read(sfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH) {
                                        uint16_t rows, cols;

                                        window_size(&rows, &cols);
                                        (void) agent_send_winch(fd, LAUNCH_SESSION, rows, cols);
                                } else
                                        (void) agent_send_signal(fd, LAUNCH_SESSION, si.ssi_signo);
                        }
                }
                if (p[0].revents) {
                        r = read_frame(fd, d, &f, -1, NULL, 0, NULL);
                        if (r == -ECONNRESET) {
                                log_error("The launch service of %s ended without an exit status", name);
                                goto finish;
                        }
                        if (r < 0) {
                                log_error_errno(r, "Bad frame from the launch service: %m");
                                goto finish;
                        }
                        if (f.type == AGENT_EXIT) {
                                r = exit_from_frame(&f);
                                if (r < 0)
                                        goto finish;
                                status = r;
                        } else if (f.type == AGENT_ERROR) {
                                char msg[512];
                                int error;

                                if (agent_parse_error(&f, &error, msg, sizeof(msg)) >= 0)
                                        log_error("The launch service refused: %s", msg);
                                else
                                        log_error("Malformed error from the launch service");
                                goto finish;
                        }
                }
        }
finish:
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        return status >= 0 ? status : PILOT_EXIT_FAILURE;
}

/* ---------------------------------------------------------------- server */

void launch_request_done(LaunchRequest *req) {
        strv_free(req->argv);
        req->argv = NULL;
        req->socket = safe_close(req->socket);
        if (req->reader > 0) {
                (void) kill(req->reader, SIGKILL);
                (void) waitpid(req->reader, NULL, 0);
                req->reader = 0;
        }
}

/* Is the peer root or a member of group flake (its groups as the kernel
 * has them, at connect time)? Returns 1 or 0, or a negative errno. */
static int peer_allowed(int fd, const struct ucred *cred) {
        _cleanup_free_ gid_t *groups = NULL;
        socklen_t l = 0;
        struct group *g;

        if (cred->uid == 0)
                return 1;
        g = getgrnam(FLAKE_GROUP_NAME);
        if (!g)
                return 0;
        if (cred->gid == g->gr_gid)
                return 1;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &l) < 0 && errno != ERANGE)
                return -errno;
        if (l == 0)
                return 0;
        groups = xmalloc(l);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &l) < 0)
                return -errno;
        for (size_t i = 0; i < l / sizeof(gid_t); i++)
                if (groups[i] == g->gr_gid)
                        return 1;
        return 0;
}

static int refuse(int fd, int error, const char *fmt, ...) _printf_(3, 4);
static int refuse(int fd, int error, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        log_error("Refused: %s", strempty(msg));
        (void) agent_send_error(fd, 0, error, strempty(msg));
        return -error;
}

int launch_server_accept(LaunchRequest *ret) {
        _cleanup_free_ AgentDecoder *d = xmalloc(sizeof(AgentDecoder));
        _cleanup_close_ int fd = -EBADF;
        int fds[LAUNCH_FDS] = { -EBADF, -EBADF, -EBADF };
        size_t n_fds = 0;
        struct ucred cred;
        socklen_t l = sizeof(cred);
        AgentExec e = {};
        AgentFrame f;
        int type = 0, r;

        /* Accept=yes: the connection is stdin. Keep it away from fds 0-2,
         * which become the caller's, and from podman (close-on-exec). */
        l = sizeof(type);
        if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_STREAM)
                return log_error_errno(SYNTHETIC_ERRNO(ENOTSOCK),
                                       "podman-pilot --serve runs as flake-launch@.service, with a connection "
                                       "on stdin");
        fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return log_error_errno(errno, "Cannot duplicate the connection: %m");
        l = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0)
                return log_error_errno(errno, "Cannot get the peer's credentials: %m");
        agent_decoder_init(d);

        r = peer_allowed(fd, &cred);
        if (r < 0)
                return log_error_errno(r, "Cannot get the groups of uid %u: %m", (unsigned) cred.uid);
        if (r == 0)
                return refuse(fd, EPERM, "uid %u is not a member of group %s: runas-root flakes are launched "
                              "for its members only", (unsigned) cred.uid, FLAKE_GROUP_NAME);
        r = agent_send_hello(fd);
        if (r < 0)
                return log_error_errno(r, "Cannot greet uid %u: %m", (unsigned) cred.uid);

        /* HELLO, then EXEC with the three descriptors. */
        for (;;) {
                r = read_frame(fd, d, &f, LAUNCH_REQUEST_TIMEOUT_MS, fds, LAUNCH_FDS, &n_fds);
                if (r < 0) {
                        log_error_errno(r, "No request from uid %u: %m", (unsigned) cred.uid);
                        goto fail;
                }
                if (f.type == AGENT_HELLO)
                        continue;
                break;
        }
        if (f.type != AGENT_EXEC || f.session != LAUNCH_SESSION) {
                r = refuse(fd, EBADMSG, "expected a launch request, got %s", agent_frame_type_to_string(f.type));
                goto fail;
        }
        r = agent_exec_parse(&f, &e);
        if (r < 0) {
                r = refuse(fd, EBADMSG, "malformed launch request");
                goto fail;
        }
        if (n_fds != LAUNCH_FDS || (e.envp && e.envp[0]) || !flake_app_name_is_valid(e.argv[0])) {
                r = refuse(fd, EINVAL, "a launch request is an app name, arguments, no environment and "
                           "three descriptors");
                agent_exec_done(&e);
                goto fail;
        }

        /* The caller's stdio becomes ours: podman inherits it, and our
         * error messages reach the caller. */
        for (int i = 0; i < LAUNCH_FDS; i++) {
                if (dup2(fds[i], i) < 0) {
                        r = log_error_errno(errno, "Cannot install the caller's descriptors: %m");
                        agent_exec_done(&e);
                        goto fail;
                }
                safe_close(fds[i]);
                fds[i] = -EBADF;
        }

        *ret = (LaunchRequest) {
                .socket = TAKE_FD(fd),
                .uid = cred.uid,
                .pid = cred.pid,
                .argv = TAKE_PTR(e.argv),
        };
        agent_exec_done(&e);
        return 0;
fail:
        for (int i = 0; i < LAUNCH_FDS; i++)
                safe_close(fds[i]);
        return r;
}

/* The reader of the caller's control frames: a child that turns them into
 * signals to the server, which forwards them to podman exactly as it does
 * for signals sent to a pilot (launch.c). The end of the connection (the
 * caller is gone) is a hangup. Only signals meant for the app are passed. */
static _noreturn_ void reader_main(int fd, pid_t server) {
        _cleanup_free_ AgentDecoder *d = xmalloc(sizeof(AgentDecoder));
        AgentFrame f;

        agent_decoder_init(d);
        for (;;) {
                uint32_t sig;

                if (read_frame(fd, d, &f, -1, NULL, 0, NULL) < 0)
                        break;
                if (f.type == AGENT_WINCH) {
                        (void) kill(server, SIGWINCH);
                        continue;
                }
                if (f.type != AGENT_SIGNAL || agent_parse_u32(&f, &sig) < 0)
                        break;
                if (sig == SIGHUP || sig == SIGINT || sig == SIGQUIT || sig == SIGTERM)
                        (void) kill(server, (int) sig);
        }
        (void) kill(server, SIGHUP);
        _exit(0);
}

int launch_server_start_reader(LaunchRequest *req) {
        pid_t server = getpid(), pid;

        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "Cannot fork: %m");
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != server)
                        _exit(0);
                reader_main(req->socket, server);
        }
        req->reader = pid;
        return 0;
}

int launch_server_finish(LaunchRequest *req, int status) {
        int r;

        /* The reader first: it must not turn our hangup into a signal. */
        if (req->reader > 0) {
                (void) kill(req->reader, SIGKILL);
                (void) waitpid(req->reader, NULL, 0);
                req->reader = 0;
        }
        r = agent_send_exit(req->socket, LAUNCH_SESSION, AGENT_EXIT_STATUS, (uint32_t) (status & 0xff));
        if (r < 0)
                log_debug_errno(r, "Cannot send the exit status to uid %u: %m", (unsigned) req->uid);
        return r;
}
