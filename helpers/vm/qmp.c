/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent-client.h"
#include "macro.h"
#include "qmp.h"
#include "time-util.h"

#define QMP_TIMEOUT_MS 30000

/* One JSON object per line, as QEMU writes them. */
static int read_message(Qmp *q, json_object **ret) {
        for (;;) {
                char *nl = memchr(q->buf, '\n', q->n);
                struct pollfd p = { .fd = q->fd, .events = POLLIN };
                ssize_t k;

                if (nl) {
                        *nl = 0;
                        *ret = json_tokener_parse(q->buf);
                        q->n -= (size_t) (nl + 1 - q->buf);
                        memmove(q->buf, nl + 1, q->n);
                        return *ret ? 0 : -EBADMSG;
                }
                if (q->n >= sizeof(q->buf) - 1)
                        return -EMSGSIZE;
                k = poll(&p, 1, QMP_TIMEOUT_MS);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ETIMEDOUT;
                k = read(q->fd, q->buf + q->n, sizeof(q->buf) - 1 - q->n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ECONNRESET;
                q->n += (size_t) k;
        }
}

static int send_message(Qmp *q, const char *text, int pass_fd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) text, .iov_len = strlen(text) };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (pass_fd >= 0) {
                m.msg_control = control.buf;
                m.msg_controllen = sizeof(control.buf);
                CMSG_FIRSTHDR(&m)->cmsg_level = SOL_SOCKET;
                CMSG_FIRSTHDR(&m)->cmsg_type = SCM_RIGHTS;
                CMSG_FIRSTHDR(&m)->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(CMSG_FIRSTHDR(&m)), &pass_fd, sizeof(int));
        }
        /* Small, to a socket: one sendmsg() or an error. */
        if (sendmsg(q->fd, &m, MSG_NOSIGNAL) != (ssize_t) iov.iov_len)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int qmp_execute(Qmp *q, const char *command, json_object *arguments, int pass_fd, json_object **ret,
                char **ret_error) {
        json_object *cmd = json_object_new_object(), *reply = NULL, *v;
        int r;

        json_object_object_add(cmd, "execute", json_object_new_string(command));
        if (arguments)
                json_object_object_add(cmd, "arguments", json_object_get(arguments));
        r = send_message(q, json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN), pass_fd);
        json_object_put(cmd);
        if (r < 0)
                return r;
        for (;;) {
                r = read_message(q, &reply);
                if (r < 0)
                        return r;
                if (json_object_object_get_ex(reply, "return", &v)) {
                        if (ret)
                                *ret = json_object_get(v);
                        json_object_put(reply);
                        return 0;
                }
                if (json_object_object_get_ex(reply, "error", &v)) {
                        json_object *d = NULL;

                        if (ret_error)
                                *ret_error = xstrdup(json_object_object_get_ex(v, "desc", &d)
                                                             ? json_object_get_string(d) : "unknown error");
                        json_object_put(reply);
                        return -EIO;
                }
                json_object_put(reply);   /* an event */
        }
}

int qmp_open(Qmp *q, const char *path, int timeout_ms) {
        uint64_t deadline = now_ms() + (uint64_t) timeout_ms;
        json_object *greeting = NULL;
        int r;

        *q = (Qmp) { .fd = -EBADF };
        while ((q->fd = agent_connect_unix(path)) < 0) {
                if (now_ms() > deadline)
                        return q->fd;
                usleep(20 * 1000);
        }
        r = read_message(q, &greeting);
        if (r >= 0 && !json_object_object_get_ex(greeting, "QMP", NULL))
                r = -EPROTO;
        json_object_put(greeting);
        if (r >= 0)
                r = qmp_execute(q, "qmp_capabilities", NULL, -EBADF, NULL, NULL);
        if (r < 0)
                qmp_close(q);
        return r;
}

void qmp_close(Qmp *q) {
        if (q->fd >= 0)
                close(q->fd);
        q->fd = -EBADF;
}
