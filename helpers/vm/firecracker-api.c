/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent-client.h"
#include "firecracker-api.h"
#include "macro.h"
#include "time-util.h"

#define API_TIMEOUT_MS 30000
#define RESPONSE_MAX 16384

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Reads headers and the Content-Length body (Firecracker always sends it). */
static int read_response(int fd, char *buf, size_t size, char **ret_body) {
        size_t n = 0;
        char *end = NULL, *cl;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t k;
                int r = poll(&p, 1, API_TIMEOUT_MS);

                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                k = read(fd, buf + n, size - 1 - n);
                if (k < 0)
                        return -errno;
                n += (size_t) k;
                buf[n] = 0;
                if (!end)
                        end = strstr(buf, "\r\n\r\n");
                if (end) {
                        cl = strcasestr(buf, "\r\nContent-Length:");
                        size_t want = cl && cl < end ? (size_t) strtoul(cl + 17, NULL, 10) : 0;
                        if (n >= (size_t) (end + 4 - buf) + want) {
                                *ret_body = end + 4;
                                return 0;
                        }
                }
                if (k == 0)
                        return -ECONNRESET;
                if (n >= size - 1)
                        return -EMSGSIZE;
        }
}

int firecracker_api(const char *socket_path, const char *method, const char *path, json_object *body,
                    int connect_timeout_ms, char **ret_error) {
        _cleanup_free_ char *req = NULL, *buf = xmalloc(RESPONSE_MAX);
        uint64_t deadline = now_ms() + (uint64_t) connect_timeout_ms;
        const char *json = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : "";
        _cleanup_close_ int fd = -EBADF;
        char *rest = NULL;
        int r, status;

        while ((fd = agent_connect_unix(socket_path)) < 0) {
                if (now_ms() > deadline)
                        return fd;
                usleep(10 * 1000);
        }
        req = xasprintf("%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
                        "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                        method, path, strlen(json), json);
        r = write_all(fd, req, strlen(req));
        if (r < 0)
                return r;
        r = read_response(fd, buf, RESPONSE_MAX, &rest);
        if (r < 0)
                return r;
        if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
                return -EPROTO;
        if (status >= 200 && status < 300)
                return 0;
        if (ret_error) {
                json_object *o = json_tokener_parse(rest), *m = NULL;

                *ret_error = o && json_object_object_get_ex(o, "fault_message", &m)
                                     ? xstrdup(json_object_get_string(m))
                                     : xstrndup(buf, strcspn(buf, "\r\n"));
                json_object_put(o);
        }
        return -EIO;
}
