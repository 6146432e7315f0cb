/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-protocol.h"
#include "macro.h"
#include "spawn.h"

#define SESSION_ID 1

static int connect_unix(const char *path) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(a.sun_path))
                return -ENAMETOOLONG;
        strcpy(a.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int agent_connect_unix(const char *path) {
        return connect_unix(path);
}

int agent_connect_vsock_uds(const char *uds_path, unsigned port, int timeout_ms) {
        _cleanup_close_ int fd = -EBADF;
        char line[64];
        size_t n = 0;
        int l;

        fd = connect_unix(uds_path);
        if (fd < 0)
                return fd;
        l = snprintf(line, sizeof(line), "CONNECT %u\n", port);
        if (write(fd, line, (size_t) l) != l)
                return -errno;

        /* Byte by byte: what follows the newline is already the guest's
         * stream and must stay in the socket for the frame decoder. */
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t k;

                l = poll(&p, 1, timeout_ms);
                if (l < 0)
                        return -errno;
                if (l == 0)
                        return -ETIMEDOUT;
                k = read(fd, line + n, 1);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ECONNREFUSED;
                if (line[n] == '\n')
                        break;
                if (++n >= sizeof(line) - 1)
                        return -EPROTO;
        }
        line[n] = 0;
        if (!startswith(line, "OK "))
                return -EPROTO;
        return TAKE_FD(fd);
}

int agent_client_handshake(int fd, int timeout_ms) {
        static AgentDecoder d;
        AgentFrame f;
        uint16_t lo, hi;
        int r;

        agent_decoder_init(&d);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint8_t c;
                ssize_t k;

                r = poll(&p, 1, timeout_ms);
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                /* One byte at a time, so nothing after HELLO is taken. */
                k = read(fd, &c, 1);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ECONNRESET;
                agent_decoder_feed(&d, &c, 1);
                r = agent_decoder_next(&d, &f);
                if (r < 0)
                        return r == -EPROTONOSUPPORT ? r : -EPROTO;
                if (r > 0)
                        break;
        }
        if (agent_parse_hello(&f, &lo, &hi) < 0)
                return -EPROTO;
        if (lo > AGENT_PROTOCOL_VERSION || hi < AGENT_PROTOCOL_VERSION)
                return -EPROTONOSUPPORT;
        return agent_send_hello(fd);
}

static int write_all(int fd, const uint8_t *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

typedef struct Relay {
        int fd;
        bool tty;
        bool stdin_open;
        bool stdout_broken, stderr_broken;
        struct termios saved;
        bool saved_valid;
} Relay;

static void relay_raw_mode(Relay *r) {
        struct termios t;

        if (tcgetattr(STDIN_FILENO, &r->saved) < 0)
                return;
        r->saved_valid = true;
        t = r->saved;
        /* Like the original: no echo, no line editing, no signals from keys
         * (Ctrl-C travels as a byte to the guest's terminal), no flow
         * control; output processing is left to the guest. */
        cfmakeraw(&t);
        t.c_oflag = r->saved.c_oflag;
        (void) tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

static void relay_restore(Relay *r) {
        if (r->saved_valid)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &r->saved);
}

static int send_winsize(Relay *r) {
        struct winsize ws;

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                return 0;
        return agent_send_winch(r->fd, SESSION_ID, ws.ws_row, ws.ws_col);
}

int agent_client_run(int fd, char * const *argv, char * const *envp, AgentClientFailure *ret_failure,
                     int *ret_status, char *errmsg, size_t errmsg_size) {
        static AgentDecoder d;
        Relay relay = { .fd = fd, .stdin_open = true };
        AgentExec e = { .argv = (char **) argv, .envp = (char **) envp };
        _cleanup_free_ uint8_t *payload = NULL;
        _cleanup_close_ int sfd = -EBADF;
        sigset_t mask, old;
        size_t size;
        int r;

        *ret_failure = AGENT_CLIENT_OK;
        relay.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        if (relay.tty) {
                struct winsize ws;
                e.flags |= AGENT_EXEC_TTY;
                if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
                        e.rows = ws.ws_row;
                        e.cols = ws.ws_col;
                }
        }
        r = agent_exec_encode(&e, &payload, &size);
        if (r < 0)
                return r;

        sigset_forwarded(&mask);
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return -errno;
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                r = -errno;
                goto out;
        }
        (void) signal(SIGPIPE, SIG_IGN);

        r = agent_write_frame(fd, AGENT_EXEC, SESSION_ID, payload, size);
        if (r < 0) {
                *ret_failure = AGENT_CLIENT_LOST;
                r = 0;
                goto out;
        }
        if (relay.tty)
                relay_raw_mode(&relay);

        agent_decoder_init(&d);
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = fd, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = relay.stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
                };
                AgentFrame f;

                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto out;
                }

                if (p[1].revents) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH)
                                        (void) send_winsize(&relay);
                                else
                                        (void) agent_send_signal(fd, SESSION_ID, si.ssi_signo);
                        }
                }

                if (p[2].revents) {
                        uint8_t buf[16384];
                        ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                ;
                        else if (k <= 0) {
                                relay.stdin_open = false;
                                (void) agent_send_eof(fd, SESSION_ID, AGENT_STREAM_STDIN);
                        } else
                                (void) agent_write_frame(fd, AGENT_STDIN, SESSION_ID, buf, (size_t) k);
                }

                if (p[0].revents) {
                        uint8_t *buf;
                        size_t space;
                        ssize_t k;

                        agent_decoder_space(&d, &buf, &space);
                        k = read(fd, buf, space);
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (k <= 0) {
                                *ret_failure = AGENT_CLIENT_LOST;
                                r = 0;
                                goto out;
                        }
                        agent_decoder_advance(&d, (size_t) k);
                        while ((r = agent_decoder_next(&d, &f)) > 0) {
                                AgentExitKind kind;
                                uint32_t v;
                                int err;

                                if (f.session != SESSION_ID)
                                        continue;
                                switch (f.type) {
                                case AGENT_STDOUT:
                                        if (!relay.stdout_broken && write_all(STDOUT_FILENO, f.payload, f.length) < 0)
                                                relay.stdout_broken = true;
                                        break;
                                case AGENT_STDERR:
                                        if (!relay.stderr_broken && write_all(STDERR_FILENO, f.payload, f.length) < 0)
                                                relay.stderr_broken = true;
                                        break;
                                case AGENT_EXIT:
                                        if (agent_parse_exit(&f, &kind, &v) < 0) {
                                                r = -EPROTO;
                                                goto out;
                                        }
                                        *ret_status = kind == AGENT_EXIT_SIGNAL ? 128 + (int) v : (int) v;
                                        r = 0;
                                        goto out;
                                case AGENT_ERROR:
                                        if (agent_parse_error(&f, &err, errmsg, errmsg_size) < 0) {
                                                r = -EPROTO;
                                                goto out;
                                        }
                                        *ret_failure = AGENT_CLIENT_EXEC_FAILED;
                                        *ret_status = err;
                                        r = 0;
                                        goto out;
                                default:
                                        break;
                                }
                        }
                        if (r < 0) {
                                r = -EPROTO;
                                goto out;
                        }
                }
        }
out:
        relay_restore(&relay);
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
