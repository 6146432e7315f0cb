/* SPDX-License-Identifier: MIT */
/* The agent: runs programs for the host, one session each, and relays their
 * stdio, window size, signals and exit status (flake-agent-protocol(7)).
 *
 * One thread and one poll() loop for everything: sessions, connections and
 * SIGCHLD (via signalfd). Writes towards the host are blocking: the host
 * side always reads, and a stalled host cannot be helped by buffering. Writes
 * towards a program's stdin are not, so a program that does not read cannot
 * stall other sessions. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agent-protocol.h"
#include "agent-server.h"
#include "compiler.h"
#include "sci-util.h"
#include "sci-wake.h"

#define SESSIONS_MAX 64
#define CONNS_MAX 64
#define STDIN_BUFFER_MAX (1024U * 1024U)

typedef struct Conn Conn;

typedef struct Session {
        uint32_t id;
        Conn *conn;               /* NULL once the host went away */
        pid_t pid;
        bool tty;
        int in_fd;                /* program's stdin (pipe) or the pty master */
        int out_fd;               /* stdout pipe, or the pty master */
        int err_fd;               /* stderr pipe; -1 with a pty */
        uint8_t *in_buf;
        size_t in_len;
        bool in_eof;              /* host sent EOF on stdin */
        bool exited;
        int status;
} Session;

struct Conn {
        int fd;
        bool multiplexed;
        bool connected;           /* serial: host side open */
        bool used;                /* vsock/unix: had its session */
        AgentDecoder dec;
};

typedef struct Server {
        const AgentServerConfig *config;
        int listen_fd;
        int signal_fd;
        Conn *conns[CONNS_MAX];
        Session *sessions[SESSIONS_MAX];
        unsigned sessions_done;
} Server;

static void fd_close(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static void set_nonblock(int fd) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
                (void) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int agent_find_serial_port(const char *name, char **ret) {
        DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *de;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char p[PATH_MAX], buf[256] = {};
                ssize_t n;
                int fd;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", de->d_name);
                fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (n <= 0)
                        continue;
                buf[strcspn(buf, "\n")] = 0;
                if (strcmp(buf, name) == 0) {
                        if (asprintf(ret, "/dev/%s", de->d_name) < 0) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        closedir(d);
                        return 0;
                }
        }
        closedir(d);
        return -ENOENT;
}

/* The host side of c is gone: hang up on its programs as a terminal
 * would. Their exits are still reaped. */
static void conn_detach_sessions(Server *s, Conn *c) {
        for (size_t i = 0; i < SESSIONS_MAX; i++) {
                Session *x = s->sessions[i];
                if (!x || x->conn != c)
                        continue;
                x->conn = NULL;
                if (x->pid > 0 && !x->exited)
                        (void) kill(-x->pid, SIGHUP);
        }
}

static void conn_free(Server *s, Conn *c) {
        conn_detach_sessions(s, c);
        for (size_t i = 0; i < CONNS_MAX; i++)
                if (s->conns[i] == c)
                        s->conns[i] = NULL;
        if (c->fd >= 0)
                close(c->fd);
        free(c);
}

static Conn *conn_add(Server *s, int fd, bool multiplexed) {
        Conn *c;

        for (size_t i = 0; i < CONNS_MAX; i++) {
                if (s->conns[i])
                        continue;
                c = calloc(1, sizeof(*c));
                if (!c)
                        return NULL;
                c->fd = fd;
                c->multiplexed = multiplexed;
                agent_decoder_init(&c->dec);
                s->conns[i] = c;
                return c;
        }
        return NULL;
}

static Session *session_find(Server *s, Conn *c, uint32_t id) {
        for (size_t i = 0; i < SESSIONS_MAX; i++)
                if (s->sessions[i] && s->sessions[i]->conn == c && s->sessions[i]->id == id)
                        return s->sessions[i];
        return NULL;
}

static int session_send(Session *x, uint8_t type, const void *p, size_t l) {
        int r;

        if (!x->conn)
                return 0;
        r = agent_write_frame(x->conn->fd, type, x->id, p, l);
        if (r < 0)
                sci_dbg("session %u: writing to the host failed: %s", x->id, strerror(-r));
        return r;
}

static void session_free(Server *s, Session *x) {
        for (size_t i = 0; i < SESSIONS_MAX; i++)
                if (s->sessions[i] == x)
                        s->sessions[i] = NULL;
        if (x->in_fd == x->out_fd)
                x->in_fd = -1;
        fd_close(&x->in_fd);
        fd_close(&x->out_fd);
        fd_close(&x->err_fd);
        free(x->in_buf);
        free(x);
        s->sessions_done++;
}

/* The session ends when the program has exited and its output is drained:
 * EXIT is the last frame the host gets for it. */
static void session_maybe_finish(Server *s, Session *x) {
        if (!x->exited || x->out_fd >= 0 || x->err_fd >= 0)
                return;
        if (WIFSIGNALED(x->status))
                (void) agent_send_exit(x->conn ? x->conn->fd : -1, x->id, AGENT_EXIT_SIGNAL,
                                       (uint32_t) WTERMSIG(x->status));
        else
                (void) agent_send_exit(x->conn ? x->conn->fd : -1, x->id, AGENT_EXIT_STATUS,
                                       (uint32_t) WEXITSTATUS(x->status));
        sci_dbg("session %u: finished", x->id);
        session_free(s, x);
}

static void session_close_output(Session *x, int *fd, AgentStream stream) {
        if (x->tty && fd == &x->out_fd && x->in_fd == x->out_fd)
                x->in_fd = -1;   /* the pty master is both */
        fd_close(fd);
        (void) agent_send_eof(x->conn ? x->conn->fd : -1, x->id, stream);
}

/* Reads one chunk of output: 1 if data was relayed, 0 if there is none
 * right now, -1 when the stream ended. */
static int session_pump_output(Session *x, int *fd, AgentStream stream) {
        uint8_t buf[16384];
        ssize_t n;

        n = read(*fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                /* EIO on a pty master: every slave fd is closed. */
                session_close_output(x, fd, stream);
                return -1;
        }
        (void) session_send(x, stream == AGENT_STREAM_STDERR ? AGENT_STDERR : AGENT_STDOUT, buf, (size_t) n);
        return 1;
}

static void session_flush_stdin(Session *x) {
        while (x->in_len > 0 && x->in_fd >= 0) {
                ssize_t n = write(x->in_fd, x->in_buf, x->in_len);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return;
                        /* The program closed its stdin: drop the rest. */
                        x->in_len = 0;
                        break;
                }
                memmove(x->in_buf, x->in_buf + n, x->in_len - (size_t) n);
                x->in_len -= (size_t) n;
        }
        if (x->in_len == 0 && x->in_eof && x->in_fd >= 0) {
                if (x->tty) {
                        /* A terminal has no "close": send its EOF character
                         * (after a newline would be wrong; ^D at the start of
                         * a line or after pending input ends a read). */
                        struct termios t;
                        char eof = 4;
                        if (tcgetattr(x->in_fd, &t) == 0)
                                eof = (char) t.c_cc[VEOF];
                        IGNORE_RESULT(write(x->in_fd, &eof, 1)); /* the app closed its terminal: no EOF to give */
                        x->in_eof = false;
                } else
                        fd_close(&x->in_fd);
        }
}

/* Keeps input for the program until it reads it. */
static int session_queue_stdin(Session *x, const uint8_t *p, size_t n) {
        uint8_t *t;

        if (n == 0)
                return 0;
        t = realloc(x->in_buf, x->in_len + n);
        if (!t)
                return -ENOMEM;
        x->in_buf = t;
        memcpy(x->in_buf + x->in_len, p, n);
        x->in_len += n;
        return 0;
}

static void child_exec(const AgentExec *e, const char *pty_name, int pipes[3][2], int errpipe) {
        sigset_t ss;
        int fd;

        sigemptyset(&ss);
        (void) sigprocmask(SIG_SETMASK, &ss, NULL);
        for (int i = 1; i < NSIG; i++)
                (void) signal(i, SIG_DFL);
        (void) setsid();

        if (pty_name) {
                fd = open(pty_name, O_RDWR);
                if (fd < 0)
                        goto fail;
                (void) ioctl(fd, TIOCSCTTY, 0);
                if (e->rows > 0 && e->cols > 0) {
                        struct winsize ws = { .ws_row = e->rows, .ws_col = e->cols };
                        (void) ioctl(fd, TIOCSWINSZ, &ws);
                }
                if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        goto fail;
                if (fd > 2)
                        close(fd);
        } else {
                if (dup2(pipes[0][0], 0) < 0 || dup2(pipes[1][1], 1) < 0 || dup2(pipes[2][1], 2) < 0)
                        goto fail;
                for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 2; j++)
                                if (pipes[i][j] > 2)
                                        close(pipes[i][j]);
        }
        for (size_t i = 0; e->envp && e->envp[i]; i++)
                (void) putenv(e->envp[i]);
        execvp(e->argv[0], e->argv);
fail:
        fd = errno;
        IGNORE_RESULT(write(errpipe, &fd, sizeof(fd))); /* without it, 127 still says so */
        _exit(127);
}

static int session_start(Server *s, Conn *c, uint32_t id, const AgentExec *e) {
        int pipes[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, errpipe[2] = { -1, -1 }, master = -1;
        char pty_name[64] = {};
        Session *x = NULL;
        size_t slot;
        int r, child_errno = 0;
        pid_t pid;

        for (slot = 0; slot < SESSIONS_MAX; slot++)
                if (!s->sessions[slot])
                        break;
        if (slot >= SESSIONS_MAX) {
                (void) agent_send_error(c->fd, id, EAGAIN, "too many sessions");
                return -EAGAIN;
        }

        if (e->flags & AGENT_EXEC_TTY) {
                master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
                    ptsname_r(master, pty_name, sizeof(pty_name)) != 0) {
                        r = -errno;
                        goto fail;
                }
        } else
                for (int i = 0; i < 3; i++)
                        if (pipe2(pipes[i], O_CLOEXEC) < 0) {
                                r = -errno;
                                goto fail;
                        }
        if (pipe2(errpipe, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }

        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0)
                child_exec(e, master >= 0 ? pty_name : NULL, pipes, errpipe[1]);

        fd_close(&errpipe[1]);
        /* The exec either succeeds (CLOEXEC closes the pipe: EOF) or the
         * child reports its errno. */
        while (read(errpipe[0], &child_errno, sizeof(child_errno)) < 0 && errno == EINTR)
                ;
        fd_close(&errpipe[0]);

        x = calloc(1, sizeof(*x));
        if (!x) {
                r = -ENOMEM;
                goto fail;
        }
        *x = (Session) { .id = id, .conn = c, .pid = pid, .tty = master >= 0, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
        if (master >= 0) {
                x->in_fd = x->out_fd = master;
                master = -1;
        } else {
                x->in_fd = pipes[0][1];
                x->out_fd = pipes[1][0];
                x->err_fd = pipes[2][0];
                pipes[0][1] = pipes[1][0] = pipes[2][0] = -1;
        }
        set_nonblock(x->in_fd);
        set_nonblock(x->out_fd);
        if (x->err_fd >= 0)
                set_nonblock(x->err_fd);
        for (int i = 0; i < 3; i++)
                for (int j = 0; j < 2; j++)
                        fd_close(&pipes[i][j]);
        s->sessions[slot] = x;

        if (child_errno != 0) {
                /* Reaped later by SIGCHLD; the session ends with ERROR
                 * instead of EXIT. */
                char msg[256];
                snprintf(msg, sizeof(msg), "%s: %s", e->argv[0], strerror(child_errno));
                (void) agent_send_error(c->fd, id, child_errno, msg);
                x->conn = NULL;
        }
        sci_dbg("session %u: started %s as %d%s", id, e->argv[0], (int) pid, x->tty ? " on a pty" : "");
        return 0;

fail:
        for (int i = 0; i < 3; i++)
                for (int j = 0; j < 2; j++)
                        fd_close(&pipes[i][j]);
        fd_close(&errpipe[0]);
        fd_close(&errpipe[1]);
        fd_close(&master);
        (void) agent_send_error(c->fd, id, -r, "could not start the program");
        return r;
}

/* Handles one frame from the host. Returns < 0 to drop the connection. */
static int conn_handle_frame(Server *s, Conn *c, const AgentFrame *f) {
        Session *x = f->session != 0 ? session_find(s, c, f->session) : NULL;
        uint16_t a, b;
        uint32_t v;
        uint8_t u;
        int r;

        switch (f->type) {
        case AGENT_HELLO:
                r = agent_parse_hello(f, &a, &b);
                if (r < 0 || a > AGENT_PROTOCOL_VERSION || b < AGENT_PROTOCOL_VERSION)
                        return -EPROTONOSUPPORT;
                return 0;

        case AGENT_WAKE:
                return sci_wake(c->fd, f, s->config->transport != AGENT_TRANSPORT_UNIX);

        case AGENT_EXEC: {
                AgentExec e = {};

                if (f->session == 0 || x)
                        return -EBADMSG;
                if (!c->multiplexed && c->used)
                        return -EBADMSG;
                c->used = true;
                r = agent_exec_parse(f, &e);
                if (r < 0)
                        return r;
                (void) session_start(s, c, f->session, &e);
                agent_exec_done(&e);
                return 0;
        }
        case AGENT_STDIN:
                if (!x || x->in_fd < 0 || x->in_eof)
                        return 0;   /* late input for a finished session */
                if (x->in_len + f->length > STDIN_BUFFER_MAX)
                        return -ENOBUFS;
                if (session_queue_stdin(x, f->payload, f->length) < 0)
                        return -ENOMEM;
                session_flush_stdin(x);
                return 0;

        case AGENT_EOF:
                if (agent_parse_u8(f, &u) < 0)
                        return -EBADMSG;
                if (x && u == AGENT_STREAM_STDIN) {
                        x->in_eof = true;
                        session_flush_stdin(x);
                }
                return 0;

        case AGENT_WINCH:
                if (agent_parse_winch(f, &a, &b) < 0)
                        return -EBADMSG;
                if (x && x->tty && x->out_fd >= 0) {
                        struct winsize ws = { .ws_row = a, .ws_col = b };
                        (void) ioctl(x->out_fd, TIOCSWINSZ, &ws);
                }
                return 0;

        case AGENT_SIGNAL:
                if (agent_parse_u32(f, &v) < 0 || v == 0 || v >= NSIG)
                        return -EBADMSG;
                if (x && !x->exited)
                        (void) kill(-x->pid, (int) v);
                return 0;

        default:
                /* Agent-to-host types from the host: a confused peer. */
                return -EBADMSG;
        }
}

/* Reads what the host sent. Returns < 0 when the connection is finished. */
static int conn_read(Server *s, Conn *c) {
        uint8_t *p;
        size_t space;
        AgentFrame f;
        ssize_t n;
        int r;

        agent_decoder_space(&c->dec, &p, &space);
        n = read(c->fd, p, space);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0)
                return n < 0 ? -errno : -ECONNRESET;
        agent_decoder_advance(&c->dec, (size_t) n);

        while ((r = agent_decoder_next(&c->dec, &f)) > 0) {
                r = conn_handle_frame(s, c, &f);
                if (r < 0)
                        break;
        }
        if (r < 0)
                sci_log("dropping host connection: %s", strerror(-r));
        return r;
}

static void reap(Server *s) {
        struct signalfd_siginfo si;

        while (read(s->signal_fd, &si, sizeof(si)) > 0)
                ;
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);

                if (pid <= 0)
                        return;
                for (size_t i = 0; i < SESSIONS_MAX; i++) {
                        Session *x = s->sessions[i];
                        if (!x || x->pid != pid)
                                continue;
                        x->exited = true;
                        x->status = status;
                        if (x->tty && x->out_fd >= 0) {
                                /* Background processes may keep the pty
                                 * open; the session ends with its leader.
                                 * Take what is already there. */
                                while (x->out_fd >= 0 && session_pump_output(x, &x->out_fd, AGENT_STREAM_STDOUT) > 0)
                                        ;
                                if (x->out_fd >= 0)
                                        session_close_output(x, &x->out_fd, AGENT_STREAM_STDOUT);
                        }
                        session_maybe_finish(s, x);
                        break;
                }
        }
}

static int open_listener(const AgentServerConfig *config) {
        int fd;

        if (config->transport == AGENT_TRANSPORT_VSOCK) {
                struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = AGENT_VSOCK_PORT };
                fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return -errno;
                if (bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                return fd;
        } else {
                struct sockaddr_un a = { .sun_family = AF_UNIX };
                if (strlen(config->path) >= sizeof(a.sun_path))
                        return -ENAMETOOLONG;
                strcpy(a.sun_path, config->path);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return -errno;
                (void) unlink(config->path);
                /* With check_peer, anybody who reaches the socket may
                 * connect; who gets a session is decided on accept. */
                if (bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 ||
                    (config->check_peer && chmod(config->path, 0666) < 0) || listen(fd, 16) < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                return fd;
        }
}

static bool server_done(Server *s) {
        if (s->config->resume || s->sessions_done == 0)
                return false;
        for (size_t i = 0; i < SESSIONS_MAX; i++)
                if (s->sessions[i])
                        return false;
        return true;
}

bool agent_unix_peer_allowed(uid_t peer, uid_t self) {
        return peer == 0 || peer == self;
}

/* Whether the connection on fd may have a session; says why not. */
static bool server_peer_allowed(const Server *s, int fd, const struct sockaddr_storage *peer, socklen_t peer_len) {
        if (s->config->transport == AGENT_TRANSPORT_VSOCK) {
                const struct sockaddr_vm *vm = (const struct sockaddr_vm *) peer;

                if (agent_peer_allowed((const struct sockaddr *) peer, peer_len))
                        return true;
                sci_log("refusing an agent connection from vsock CID %u (only the host, CID %u, may connect)",
                        peer->ss_family == AF_VSOCK ? vm->svm_cid : (unsigned) -1, (unsigned) VMADDR_CID_HOST);
                return false;
        }
        if (s->config->check_peer) {
                struct ucred cred = {};
                socklen_t l = sizeof(cred);

                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0) {
                        sci_log("refusing an agent connection: no peer credentials: %s", strerror(errno));
                        return false;
                }
                if (agent_unix_peer_allowed(cred.uid, geteuid()))
                        return true;
                sci_log("refusing an agent connection from uid %u (pid %d): only root and uid %u may connect",
                        (unsigned) cred.uid, (int) cred.pid, (unsigned) geteuid());
                return false;
        }
        /* sci's test mode: the socket is guarded by its file mode. */
        return true;
}

static void server_accept(Server *s) {
        struct sockaddr_storage peer = {};
        socklen_t peer_len = sizeof(peer);
        Conn *c;
        int fd;

        fd = accept4(s->listen_fd, (struct sockaddr *) &peer, &peer_len, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        if (!server_peer_allowed(s, fd, &peer, peer_len)) {
                close(fd);
                return;
        }
        c = conn_add(s, fd, false);
        if (!c) {
                close(fd);
                return;
        }
        if (agent_send_hello(fd) < 0) {
                conn_free(s, c);
                return;
        }
        set_nonblock(fd);
}

bool agent_peer_allowed(const struct sockaddr *peer, socklen_t len) {
        const struct sockaddr_vm *vm = (const struct sockaddr_vm *) peer;

        return peer && len >= (socklen_t) sizeof(struct sockaddr_vm) && peer->sa_family == AF_VSOCK &&
               vm->svm_cid == VMADDR_CID_HOST;
}

/* One poll() round: every fd the server waits on, what it is and whose. */
typedef enum PollKind {
        POLL_SIGNAL,              /* SIGCHLD via signalfd */
        POLL_LISTEN,              /* vsock/unix listener */
        POLL_CONN,                /* a connection from the host */
        POLL_STDOUT,              /* a program's stdout (or pty master) */
        POLL_STDERR,              /* a program's stderr */
        POLL_STDIN,               /* a program's stdin, writable again */
        _POLL_KIND_MAX,
} PollKind;

#define POLL_MAX (2 + CONNS_MAX + SESSIONS_MAX * 3)

typedef struct PollSet {
        struct pollfd pfd[POLL_MAX];
        PollKind kind[POLL_MAX];
        void *owner[POLL_MAX];
        size_t n;
        int timeout;
} PollSet;

static void pollset_add(PollSet *ps, int fd, short events, PollKind kind, void *owner) {
        ps->pfd[ps->n] = (struct pollfd) { .fd = fd, .events = events };
        ps->kind[ps->n] = kind;
        ps->owner[ps->n++] = owner;
}

/* A multiplexed port comes up when the host opens it: then we greet. */
static bool conn_check_connected(Conn *c) {
        struct pollfd t = { .fd = c->fd, .events = POLLIN };

        /* virtio-serial reports POLLHUP while no host process has the port
         * open; look again shortly instead of spinning. */
        if (poll(&t, 1, 0) >= 0 && !(t.revents & POLLHUP)) {
                c->connected = true;
                agent_decoder_init(&c->dec);
                if (agent_send_hello(c->fd) < 0)
                        c->connected = false;
        }
        return c->connected;
}

static void server_collect(Server *s, PollSet *ps) {
        ps->n = 0;
        ps->timeout = -1;
        pollset_add(ps, s->signal_fd, POLLIN, POLL_SIGNAL, NULL);
        if (s->listen_fd >= 0)
                pollset_add(ps, s->listen_fd, POLLIN, POLL_LISTEN, NULL);
        for (size_t i = 0; i < CONNS_MAX; i++) {
                Conn *c = s->conns[i];
                if (!c)
                        continue;
                if (c->multiplexed && !c->connected && !conn_check_connected(c)) {
                        ps->timeout = 100;
                        continue;
                }
                pollset_add(ps, c->fd, POLLIN, POLL_CONN, c);
        }
        for (size_t i = 0; i < SESSIONS_MAX; i++) {
                Session *x = s->sessions[i];
                if (!x)
                        continue;
                if (x->out_fd >= 0)
                        pollset_add(ps, x->out_fd, POLLIN, POLL_STDOUT, x);
                if (x->err_fd >= 0)
                        pollset_add(ps, x->err_fd, POLLIN, POLL_STDERR, x);
                if (x->in_fd >= 0 && x->in_len > 0 && !x->tty)
                        pollset_add(ps, x->in_fd, POLLOUT, POLL_STDIN, x);
                else if (x->tty && x->in_len > 0)
                        ps->timeout = 20;   /* the master is polled for input already */
        }
}

static bool conn_alive(const Server *s, const Conn *c) {
        for (size_t k = 0; k < CONNS_MAX; k++)
                if (s->conns[k] == c)
                        return true;
        return false;
}

static bool session_alive(const Server *s, const Session *x) {
        for (size_t k = 0; k < SESSIONS_MAX; k++)
                if (s->sessions[k] == x)
                        return true;
        return false;
}

static void on_conn(Server *s, void *owner, short revents) {
        Conn *c = owner;

        /* Frames handled earlier in this round may have freed it. */
        if (!conn_alive(s, c))
                return;
        if (c->multiplexed && (revents & POLLHUP) && !(revents & POLLIN)) {
                /* The host closed the port: its sessions are gone, the
                 * port stays. */
                c->connected = false;
                conn_detach_sessions(s, c);
                return;
        }
        if (conn_read(s, c) < 0) {
                if (c->multiplexed)
                        c->connected = false;
                else
                        conn_free(s, c);
        }
}

static void on_session(Server *s, Session *x, PollKind kind) {
        if (!session_alive(s, x))
                return;
        if (kind == POLL_STDOUT && x->out_fd >= 0)
                (void) session_pump_output(x, &x->out_fd, AGENT_STREAM_STDOUT);
        else if (kind == POLL_STDERR && x->err_fd >= 0)
                (void) session_pump_output(x, &x->err_fd, AGENT_STREAM_STDERR);
        else if (kind == POLL_STDIN)
                session_flush_stdin(x);
        session_maybe_finish(s, x);
}

/* The handler of each kind of fd. (A switch rather than a table of
 * function pointers: gcc -fanalyzer follows direct calls only, and lost
 * track of the sessions' buffers behind the pointers.) */
static void server_dispatch(Server *s, PollKind kind, void *owner, short revents) {
        switch (kind) {
        case POLL_SIGNAL:
                reap(s);
                break;
        case POLL_LISTEN:
                server_accept(s);
                break;
        case POLL_CONN:
                on_conn(s, owner, revents);
                break;
        case POLL_STDOUT:
        case POLL_STDERR:
        case POLL_STDIN:
                on_session(s, owner, kind);
                break;
        default:
                break;
        }
}

/* After a round: input for pty sessions (whose master is polled for output
 * only), and vsock/unix connections whose session has ended. */
static void server_tidy(Server *s) {
        for (size_t i = 0; i < SESSIONS_MAX; i++)
                if (s->sessions[i] && s->sessions[i]->tty && s->sessions[i]->in_len > 0)
                        session_flush_stdin(s->sessions[i]);

        for (size_t i = 0; i < CONNS_MAX; i++) {
                Conn *c = s->conns[i];
                bool busy = false;
                if (!c || c->multiplexed || !c->used)
                        continue;
                for (size_t k = 0; k < SESSIONS_MAX; k++)
                        busy = busy || (s->sessions[k] && s->sessions[k]->conn == c);
                if (!busy)
                        conn_free(s, c);
        }
}

/* The transport: the serial port as one multiplexed connection, or a
 * listener. */
static int server_open(Server *s) {
        int fd;

        if (s->config->transport != AGENT_TRANSPORT_SERIAL) {
                s->listen_fd = open_listener(s->config);
                return s->listen_fd < 0 ? s->listen_fd : 0;
        }
        fd = open(s->config->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        set_nonblock(fd);
        if (!conn_add(s, fd, true)) {
                close(fd);
                return -ENOMEM;
        }
        return 0;
}

static void server_close(Server *s) {
        for (size_t i = 0; i < CONNS_MAX; i++)
                if (s->conns[i])
                        conn_free(s, s->conns[i]);
        for (size_t i = 0; i < SESSIONS_MAX; i++)
                if (s->sessions[i])
                        session_free(s, s->sessions[i]);
        if (s->listen_fd >= 0)
                close(s->listen_fd);
        if (s->signal_fd >= 0)
                close(s->signal_fd);
}

int agent_server_run(const AgentServerConfig *config) {
        Server s = { .config = config, .listen_fd = -1, .signal_fd = -1 };
        PollSet ps;
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        s.signal_fd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
        if (s.signal_fd < 0)
                return -errno;
        /* A host that goes away must not kill the agent. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = server_open(&s);
        if (r >= 0)
                sci_dbg("agent ready");
        while (r >= 0 && !server_done(&s)) {
                server_collect(&s, &ps);
                if (poll(ps.pfd, ps.n, ps.timeout) < 0) {
                        if (errno != EINTR)
                                r = -errno;
                        continue;
                }
                for (size_t i = 0; i < ps.n; i++)
                        if (ps.pfd[i].revents != 0)
                                server_dispatch(&s, ps.kind[i], ps.owner[i], ps.pfd[i].revents);
                server_tidy(&s);
        }
        server_close(&s);
        return r;
}
