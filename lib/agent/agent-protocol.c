/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent-protocol.h"
#include "compiler.h"

static void put_u16(uint8_t *p, uint16_t v) {
        p[0] = v >> 8;
        p[1] = v;
}

static void put_u32(uint8_t *p, uint32_t v) {
        p[0] = v >> 24;
        p[1] = v >> 16;
        p[2] = v >> 8;
        p[3] = v;
}

static uint16_t get_u16(const uint8_t *p) {
        return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t get_u32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

void agent_decoder_init(AgentDecoder *d) {
        d->n = 0;
        d->consumed = 0;
}

/* Drops the frame handed out last, so its bytes can be reused. */
static void decoder_compact(AgentDecoder *d) {
        if (d->consumed == 0)
                return;
        memmove(d->buf, d->buf + d->consumed, d->n - d->consumed);
        d->n -= d->consumed;
        d->consumed = 0;
}

void agent_decoder_space(AgentDecoder *d, uint8_t **ret_ptr, size_t *ret_size) {
        decoder_compact(d);
        *ret_ptr = d->buf + d->n;
        *ret_size = sizeof(d->buf) - d->n;
}

void agent_decoder_advance(AgentDecoder *d, size_t n) {
        if (n > sizeof(d->buf) - d->n)
                n = sizeof(d->buf) - d->n;
        d->n += n;
}

size_t agent_decoder_feed(AgentDecoder *d, const void *data, size_t size) {
        uint8_t *p;
        size_t space;

        agent_decoder_space(d, &p, &space);
        if (size > space)
                size = space;
        memcpy(p, data, size);
        d->n += size;
        return size;
}

int agent_decoder_next(AgentDecoder *d, AgentFrame *ret) {
        uint32_t length;
        uint8_t type;

        decoder_compact(d);
        /* Check the magic as soon as it is there, so that garbage (a console
         * instead of an agent, say) is reported at once instead of after
         * waiting for a length that will never come. */
        if (d->n >= 1 && d->buf[0] != 'F')
                return -EBADMSG;
        if (d->n >= 2 && d->buf[1] != 'A')
                return -EBADMSG;
        if (d->n >= 3 && d->buf[2] != AGENT_PROTOCOL_VERSION)
                return -EPROTONOSUPPORT;
        if (d->n < AGENT_HEADER_SIZE)
                return 0;

        type = d->buf[3];
        length = get_u32(d->buf + 8);
        if (type == 0 || type >= _AGENT_FRAME_TYPE_MAX)
                return -EBADMSG;
        if (length > AGENT_PAYLOAD_MAX)
                return -EBADMSG;
        if (d->n < AGENT_HEADER_SIZE + (size_t) length)
                return 0;

        *ret = (AgentFrame) {
                .type = type,
                .session = get_u32(d->buf + 4),
                .length = length,
                .payload = d->buf + AGENT_HEADER_SIZE,
        };
        d->consumed = AGENT_HEADER_SIZE + length;
        return 1;
}

void agent_header_encode(uint8_t out[AGENT_HEADER_SIZE], uint8_t type, uint32_t session, uint32_t length) {
        out[0] = 'F';
        out[1] = 'A';
        out[2] = AGENT_PROTOCOL_VERSION;
        out[3] = type;
        put_u32(out + 4, session);
        put_u32(out + 8, length);
}

int agent_write_frame(int fd, uint8_t type, uint32_t session, const void *payload, size_t length) {
        uint8_t hdr[AGENT_HEADER_SIZE];
        struct iovec iov[2];
        size_t total, done = 0;

        if (length > AGENT_PAYLOAD_MAX)
                return -E2BIG;

        agent_header_encode(hdr, type, session, (uint32_t) length);
        total = sizeof(hdr) + length;

        while (done < total) {
                ssize_t k;
                int n = 0;

                if (done < sizeof(hdr)) {
                        iov[n++] = (struct iovec) { hdr + done, sizeof(hdr) - done };
                        if (length > 0)
                                iov[n++] = (struct iovec) { (void *) payload, length };
                } else
                        iov[n++] = (struct iovec) { (uint8_t *) payload + (done - sizeof(hdr)), total - done };

                k = writev(fd, iov, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t) k;
        }
        return 0;
}

int agent_send_hello(int fd) {
        uint8_t p[4];

        put_u16(p, AGENT_PROTOCOL_VERSION);
        put_u16(p + 2, AGENT_PROTOCOL_VERSION);
        return agent_write_frame(fd, AGENT_HELLO, 0, p, sizeof(p));
}

int agent_send_eof(int fd, uint32_t session, AgentStream stream) {
        uint8_t p = stream;

        return agent_write_frame(fd, AGENT_EOF, session, &p, 1);
}

int agent_send_winch(int fd, uint32_t session, uint16_t rows, uint16_t cols) {
        uint8_t p[4];

        put_u16(p, rows);
        put_u16(p + 2, cols);
        return agent_write_frame(fd, AGENT_WINCH, session, p, sizeof(p));
}

int agent_send_signal(int fd, uint32_t session, uint32_t signo) {
        uint8_t p[4];

        put_u32(p, signo);
        return agent_write_frame(fd, AGENT_SIGNAL, session, p, sizeof(p));
}

int agent_send_exit(int fd, uint32_t session, AgentExitKind kind, uint32_t value) {
        uint8_t p[5];

        p[0] = kind;
        put_u32(p + 1, value);
        return agent_write_frame(fd, AGENT_EXIT, session, p, sizeof(p));
}

int agent_send_error(int fd, uint32_t session, int error, const char *message) {
        uint8_t p[4 + 256];
        size_t l = message ? strnlen(message, 256) : 0;

        put_u32(p, (uint32_t) (error < 0 ? -error : error));
        if (l > 0)
                memcpy(p + 4, message, l);
        return agent_write_frame(fd, AGENT_ERROR, session, p, 4 + l);
}

int agent_parse_hello(const AgentFrame *f, uint16_t *ret_min, uint16_t *ret_max) {
        if (f->type != AGENT_HELLO || f->length != 4)
                return -EBADMSG;
        *ret_min = get_u16(f->payload);
        *ret_max = get_u16(f->payload + 2);
        if (*ret_min > *ret_max)
                return -EBADMSG;
        return 0;
}

int agent_parse_u8(const AgentFrame *f, uint8_t *ret) {
        if (f->length != 1)
                return -EBADMSG;
        *ret = f->payload[0];
        return 0;
}

int agent_parse_u32(const AgentFrame *f, uint32_t *ret) {
        if (f->length != 4)
                return -EBADMSG;
        *ret = get_u32(f->payload);
        return 0;
}

int agent_parse_winch(const AgentFrame *f, uint16_t *ret_rows, uint16_t *ret_cols) {
        if (f->type != AGENT_WINCH || f->length != 4)
                return -EBADMSG;
        *ret_rows = get_u16(f->payload);
        *ret_cols = get_u16(f->payload + 2);
        return 0;
}

int agent_parse_exit(const AgentFrame *f, AgentExitKind *ret_kind, uint32_t *ret_value) {
        if (f->type != AGENT_EXIT || f->length != 5)
                return -EBADMSG;
        if (f->payload[0] != AGENT_EXIT_STATUS && f->payload[0] != AGENT_EXIT_SIGNAL)
                return -EBADMSG;
        *ret_kind = f->payload[0];
        *ret_value = get_u32(f->payload + 1);
        if (*ret_kind == AGENT_EXIT_STATUS && *ret_value > 255)
                return -EBADMSG;
        if (*ret_kind == AGENT_EXIT_SIGNAL && (*ret_value == 0 || *ret_value > 64))
                return -EBADMSG;
        return 0;
}

int agent_parse_error(const AgentFrame *f, int *ret_error, char *msg, size_t msg_size) {
        size_t l;

        if (f->type != AGENT_ERROR || f->length < 4 || msg_size == 0)
                return -EBADMSG;
        *ret_error = (int) (get_u32(f->payload) & 0xffff);
        l = f->length - 4;
        if (l >= msg_size)
                l = msg_size - 1;
        memcpy(msg, f->payload + 4, l);
        msg[l] = 0;
        /* The message is for a log line: no control characters. */
        for (size_t i = 0; i < l; i++)
                if ((unsigned char) msg[i] < ' ' || msg[i] == 0x7f)
                        msg[i] = '?';
        return 0;
}

static size_t strv_len(char * const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

int agent_exec_encode(const AgentExec *e, uint8_t **ret, size_t *ret_size) {
        size_t argc = strv_len(e->argv), envc = strv_len(e->envp), size = 9;
        uint8_t *buf, *p;

        if (argc == 0 || e->argv[0][0] == 0)
                return -EINVAL;
        if (argc + envc > AGENT_EXEC_ARGS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < argc; i++)
                size += strlen(e->argv[i]) + 1;
        for (size_t i = 0; i < envc; i++)
                size += strlen(e->envp[i]) + 1;
        if (size > AGENT_PAYLOAD_MAX)
                return -E2BIG;

        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        buf[0] = e->flags;
        put_u16(buf + 1, e->rows);
        put_u16(buf + 3, e->cols);
        put_u16(buf + 5, (uint16_t) argc);
        put_u16(buf + 7, (uint16_t) envc);
        p = buf + 9;
        for (size_t i = 0; i < argc; i++)
                p = (uint8_t *) stpcpy((char *) p, e->argv[i]) + 1;
        for (size_t i = 0; i < envc; i++)
                p = (uint8_t *) stpcpy((char *) p, e->envp[i]) + 1;

        *ret = buf;
        *ret_size = size;
        return 0;
}

/* gcc 12's -fanalyzer loses track of pointers stored into a calloc()ed
 * array and of a struct handed out by value, and reports the strings of
 * take_strings() and agent_exec_parse() as leaked where they are owned by
 * the list or by *ret (test-agent-protocol's error cases run under ASan and
 * valgrind without leaks). */
DISABLE_WARNING_ANALYZER_MALLOC_LEAK
static void strv_free_n(char **l) {
        for (size_t i = 0; l && l[i]; i++)
                free(l[i]);
        free(l);
}

void agent_exec_done(AgentExec *e) {
        strv_free_n(e->argv);
        strv_free_n(e->envp);
        e->argv = e->envp = NULL;
}

/* Takes count NUL-terminated strings from [*p, end). */
static int take_strings(const uint8_t **p, const uint8_t *end, size_t count, char ***ret) {
        char **l;

        l = calloc(count + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++) {
                const uint8_t *z = memchr(*p, 0, (size_t) (end - *p));

                if (!z) {
                        strv_free_n(l);
                        return -EBADMSG;
                }
                l[i] = strdup((const char *) *p);
                if (!l[i]) {
                        strv_free_n(l);
                        return -ENOMEM;
                }
                *p = z + 1;
        }
        *ret = l;
        return 0;
}

int agent_exec_parse(const AgentFrame *f, AgentExec *ret) {
        const uint8_t *p, *end;
        AgentExec e = {};
        size_t argc, envc;
        int r;

        if (f->type != AGENT_EXEC || f->length < 9)
                return -EBADMSG;
        p = f->payload;
        end = p + f->length;

        e.flags = p[0];
        if (e.flags & ~AGENT_EXEC_TTY)
                return -EBADMSG;
        e.rows = get_u16(p + 1);
        e.cols = get_u16(p + 3);
        argc = get_u16(p + 5);
        envc = get_u16(p + 7);
        if (argc == 0 || argc + envc > AGENT_EXEC_ARGS_MAX)
                return -EBADMSG;
        /* Every string needs at least its NUL: reject impossible counts
         * before allocating for them. */
        if (argc + envc > f->length - 9)
                return -EBADMSG;
        p += 9;

        r = take_strings(&p, end, argc, &e.argv);
        if (r < 0)
                return r;
        r = take_strings(&p, end, envc, &e.envp);
        if (r < 0)
                goto fail;
        r = -EBADMSG;
        if (p != end || e.argv[0][0] == 0)
                goto fail;
        for (size_t i = 0; i < envc; i++)
                if (!strchr(e.envp[i], '=') || e.envp[i][0] == '=')
                        goto fail;

        *ret = e;
        return 0;
fail:
        agent_exec_done(&e);
        return r;
}
REENABLE_WARNING

const char *agent_frame_type_to_string(uint8_t type) {
        static const char * const names[] = {
                [AGENT_HELLO] = "HELLO",
                [AGENT_EXEC] = "EXEC",
                [AGENT_STDIN] = "STDIN",
                [AGENT_STDOUT] = "STDOUT",
                [AGENT_STDERR] = "STDERR",
                [AGENT_EOF] = "EOF",
                [AGENT_WINCH] = "WINCH",
                [AGENT_SIGNAL] = "SIGNAL",
                [AGENT_EXIT] = "EXIT",
                [AGENT_ERROR] = "ERROR",
        };

        if (type >= sizeof(names) / sizeof(names[0]) || !names[type])
                return "UNKNOWN";
        return names[type];
}
