/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-protocol.h"

/* Frames written to a pipe come back unchanged through the decoder, even
 * when fed one byte at a time. */
static void test_roundtrip_bytewise(void **state) {
        static AgentDecoder d;
        uint8_t buf[256];
        AgentFrame f;
        int p[2];
        ssize_t n;

        assert_int_equal(pipe(p), 0);
        assert_int_equal(agent_send_hello(p[1]), 0);
        assert_int_equal(agent_write_frame(p[1], AGENT_STDOUT, 7, "hello", 5), 0);
        assert_int_equal(agent_send_exit(p[1], 7, AGENT_EXIT_SIGNAL, 15), 0);
        assert_int_equal(agent_write_frame(p[1], AGENT_STDIN, 7, NULL, 0), 0);
        close(p[1]);
        n = read(p[0], buf, sizeof(buf));
        close(p[0]);
        assert_int_equal(n, 12 + 4 + 12 + 5 + 12 + 5 + 12);

        agent_decoder_init(&d);
        int seen = 0;
        for (ssize_t i = 0; i < n; i++) {
                assert_int_equal(agent_decoder_feed(&d, buf + i, 1), 1);
                for (;;) {
                        int r = agent_decoder_next(&d, &f);
                        assert_true(r >= 0);
                        if (r == 0)
                                break;
                        seen++;
                        if (seen == 1) {
                                uint16_t lo, hi;
                                assert_int_equal(agent_parse_hello(&f, &lo, &hi), 0);
                                assert_int_equal(lo, AGENT_PROTOCOL_VERSION);
                        } else if (seen == 2) {
                                assert_int_equal(f.type, AGENT_STDOUT);
                                assert_int_equal(f.session, 7);
                                assert_memory_equal(f.payload, "hello", 5);
                        } else if (seen == 3) {
                                AgentExitKind k;
                                uint32_t v;
                                assert_int_equal(agent_parse_exit(&f, &k, &v), 0);
                                assert_int_equal(k, AGENT_EXIT_SIGNAL);
                                assert_int_equal(v, 15);
                        } else {
                                assert_int_equal(f.type, AGENT_STDIN);
                                assert_int_equal(f.length, 0);
                        }
                }
        }
        assert_int_equal(seen, 4);
}

/* The bytes flake-agent-protocol(7) specifies, written out by hand from the
 * page (12-byte header: "FA", version 1, type, u32 session, u32 length;
 * big-endian; then the payload), compared with what each sender writes. A
 * change of field order, width or byte order fails here even when the two
 * sides still agree with each other. */
static void assert_wire(int (*send)(int fd), const uint8_t *want, size_t want_size) {
        uint8_t buf[256];
        ssize_t n;
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(send(p[1]), 0);
        close(p[1]);
        n = read(p[0], buf, sizeof(buf));
        close(p[0]);
        assert_int_equal(n, (ssize_t) want_size);
        assert_memory_equal(buf, want, want_size);
}

static int send_hello(int fd) { return agent_send_hello(fd); }
static int send_stdout(int fd) { return agent_write_frame(fd, AGENT_STDOUT, 7, "hello", 5); }
static int send_stdin_empty(int fd) { return agent_write_frame(fd, AGENT_STDIN, 0x01020304, NULL, 0); }
static int send_eof(int fd) { return agent_send_eof(fd, 7, AGENT_STREAM_STDERR); }
static int send_winch(int fd) { return agent_send_winch(fd, 7, 24, 300); }
static int send_signal(int fd) { return agent_send_signal(fd, 7, 15); }
static int send_exit_status(int fd) { return agent_send_exit(fd, 7, AGENT_EXIT_STATUS, 42); }
static int send_exit_signal(int fd) { return agent_send_exit(fd, 0x100, AGENT_EXIT_SIGNAL, 9); }
static int send_error(int fd) { return agent_send_error(fd, 7, ENOENT, "no"); }

static void test_golden_wire_bytes(void **state) {
        /* HELLO, session 0: u16 lowest, u16 highest version (1, 1). */
        static const uint8_t hello[] = { 'F', 'A', 1, 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 1 };
        /* STDOUT, session 7, 5 bytes. */
        static const uint8_t out[] = { 'F', 'A', 1, 4, 0, 0, 0, 7, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o' };
        /* STDIN, a session id with four distinct bytes, no payload. */
        static const uint8_t in[] = { 'F', 'A', 1, 3, 1, 2, 3, 4, 0, 0, 0, 0 };
        /* EOF: u8 stream (2: stderr). */
        static const uint8_t eof[] = { 'F', 'A', 1, 6, 0, 0, 0, 7, 0, 0, 0, 1, 2 };
        /* WINCH: u16 rows 24, u16 columns 300 (0x012c). */
        static const uint8_t winch[] = { 'F', 'A', 1, 7, 0, 0, 0, 7, 0, 0, 0, 4, 0, 24, 0x01, 0x2c };
        /* SIGNAL: u32 15. */
        static const uint8_t sig[] = { 'F', 'A', 1, 8, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 15 };
        /* EXIT: u8 kind (0: exited), u32 value 42. */
        static const uint8_t exit_status[] = { 'F', 'A', 1, 9, 0, 0, 0, 7, 0, 0, 0, 5, 0, 0, 0, 0, 42 };
        /* EXIT: kind 1 (signal), 9; session 256. */
        static const uint8_t exit_signal[] = { 'F', 'A', 1, 9, 0, 0, 1, 0, 0, 0, 0, 5, 1, 0, 0, 0, 9 };
        /* ERROR: u32 errno (ENOENT, 2), the message without a NUL. */
        static const uint8_t error[] = { 'F', 'A', 1, 10, 0, 0, 0, 7, 0, 0, 0, 6, 0, 0, 0, 2, 'n', 'o' };

        assert_wire(send_hello, hello, sizeof(hello));
        assert_wire(send_stdout, out, sizeof(out));
        assert_wire(send_stdin_empty, in, sizeof(in));
        assert_wire(send_eof, eof, sizeof(eof));
        assert_wire(send_winch, winch, sizeof(winch));
        assert_wire(send_signal, sig, sizeof(sig));
        assert_wire(send_exit_status, exit_status, sizeof(exit_status));
        assert_wire(send_exit_signal, exit_signal, sizeof(exit_signal));
        assert_wire(send_error, error, sizeof(error));
}

/* WAKE (host to agent, session 0): u64 wall clock in ns, then the seed;
 * parsed back to the same values, and refused with a short seed or on a
 * session other than 0. */
static uint8_t wake_seed[32];
static int send_wake(int fd) { return agent_send_wake(fd, 0x0102030405060708ULL, wake_seed, sizeof(wake_seed)); }

static void test_golden_wake(void **state) {
        static uint8_t want[AGENT_HEADER_SIZE + 8 + 32] = {
                'F', 'A', 1, 11, 0, 0, 0, 0, 0, 0, 0, 40, 1, 2, 3, 4, 5, 6, 7, 8,
        };
        const uint8_t *seed;
        uint64_t ns;
        size_t n;

        for (size_t k = 0; k < sizeof(wake_seed); k++)
                want[AGENT_HEADER_SIZE + 8 + k] = wake_seed[k] = (uint8_t) (0xa0 + k);
        assert_wire(send_wake, want, sizeof(want));

        AgentFrame f = { .type = AGENT_WAKE, .session = 0, .length = 40, .payload = want + AGENT_HEADER_SIZE };
        assert_int_equal(agent_parse_wake(&f, &ns, &seed, &n), 0);
        assert_true(ns == 0x0102030405060708ULL);
        assert_int_equal(n, 32);
        assert_memory_equal(seed, wake_seed, 32);

        f.length = 8 + AGENT_WAKE_SEED_MIN - 1;
        assert_int_equal(agent_parse_wake(&f, &ns, &seed, &n), -EBADMSG);
        f.length = 40;
        f.session = 1;
        assert_int_equal(agent_parse_wake(&f, &ns, &seed, &n), -EBADMSG);
        assert_int_equal(agent_send_wake(-1, 0, wake_seed, AGENT_WAKE_SEED_MIN - 1), -EINVAL);
}

/* EXEC's payload: u8 flags, u16 rows, u16 columns, u16 argc, u16 envc, then
 * the NUL-terminated strings, argv first; and the decoder reads the same
 * bytes back. */
static void test_golden_exec(void **state) {
        static const uint8_t want[] = {
                0x01, 0, 24, 0, 80, 0, 2, 0, 1,
                'l', 's', 0, '-', 'l', 0, 'A', '=', '1', 0,
        };
        char *argv[] = { (char *) "ls", (char *) "-l", NULL };
        char *envp[] = { (char *) "A=1", NULL };
        AgentExec e = { .flags = AGENT_EXEC_TTY, .rows = 24, .cols = 80, .argv = argv, .envp = envp }, back = {};
        uint8_t *buf = NULL;
        size_t size;

        assert_int_equal(agent_exec_encode(&e, &buf, &size), 0);
        assert_int_equal(size, sizeof(want));
        assert_memory_equal(buf, want, sizeof(want));
        free(buf);

        AgentFrame f = { .type = AGENT_EXEC, .session = 1, .length = sizeof(want), .payload = (uint8_t *) want };
        assert_int_equal(agent_exec_parse(&f, &back), 0);
        assert_int_equal(back.flags, AGENT_EXEC_TTY);
        assert_int_equal(back.rows, 24);
        assert_int_equal(back.cols, 80);
        assert_string_equal(back.argv[0], "ls");
        assert_string_equal(back.argv[1], "-l");
        assert_null(back.argv[2]);
        assert_string_equal(back.envp[0], "A=1");
        assert_null(back.envp[1]);
        agent_exec_done(&back);
}

/* A header as the page writes it decodes to its fields. */
static void test_golden_header_decode(void **state) {
        static AgentDecoder d;
        static const uint8_t frame[] = { 'F', 'A', 1, 5, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 2, 'h', 'i' };
        AgentFrame f;

        agent_decoder_init(&d);
        assert_int_equal(agent_decoder_feed(&d, frame, sizeof(frame)), sizeof(frame));
        assert_int_equal(agent_decoder_next(&d, &f), 1);
        assert_int_equal(f.type, AGENT_STDERR);
        assert_int_equal(f.session, 0xdeadbeef);
        assert_int_equal(f.length, 2);
        assert_memory_equal(f.payload, "hi", 2);
}

static void test_bad_headers(void **state) {
        static AgentDecoder d;
        uint8_t h[AGENT_HEADER_SIZE];
        AgentFrame f;

        agent_decoder_init(&d);
        agent_decoder_feed(&d, "X", 1);
        assert_int_equal(agent_decoder_next(&d, &f), -EBADMSG);

        agent_decoder_init(&d);
        agent_decoder_feed(&d, "FA\x02", 3);
        assert_int_equal(agent_decoder_next(&d, &f), -EPROTONOSUPPORT);

        agent_decoder_init(&d);
        agent_header_encode(h, AGENT_STDOUT, 1, AGENT_PAYLOAD_MAX + 1);
        agent_decoder_feed(&d, h, sizeof(h));
        assert_int_equal(agent_decoder_next(&d, &f), -EBADMSG);

        agent_decoder_init(&d);
        agent_header_encode(h, 0, 1, 0);
        agent_decoder_feed(&d, h, sizeof(h));
        assert_int_equal(agent_decoder_next(&d, &f), -EBADMSG);

        agent_decoder_init(&d);
        agent_header_encode(h, _AGENT_FRAME_TYPE_MAX, 1, 0);
        agent_decoder_feed(&d, h, sizeof(h));
        assert_int_equal(agent_decoder_next(&d, &f), -EBADMSG);

        /* A partial header is not an error yet. */
        agent_decoder_init(&d);
        agent_decoder_feed(&d, "FA\x01", 3);
        assert_int_equal(agent_decoder_next(&d, &f), 0);
}

static void test_max_payload(void **state) {
        static AgentDecoder d;
        static uint8_t frame[AGENT_FRAME_MAX];
        AgentFrame f;

        agent_header_encode(frame, AGENT_STDERR, 3, AGENT_PAYLOAD_MAX);
        memset(frame + AGENT_HEADER_SIZE, 'x', AGENT_PAYLOAD_MAX);
        agent_decoder_init(&d);
        assert_int_equal(agent_decoder_feed(&d, frame, sizeof(frame)), sizeof(frame));
        /* The buffer is full: nothing more fits until the frame is taken. */
        assert_int_equal(agent_decoder_feed(&d, "F", 1), 0);
        assert_int_equal(agent_decoder_next(&d, &f), 1);
        assert_int_equal(f.length, AGENT_PAYLOAD_MAX);
        assert_int_equal(agent_decoder_next(&d, &f), 0);
        assert_int_equal(agent_decoder_feed(&d, "F", 1), 1);
}

static void test_exec_roundtrip(void **state) {
        char *argv[] = { (char *) "/bin/echo", (char *) "-n", (char *) "", (char *) "a b", NULL };
        char *envp[] = { (char *) "TERM=xterm", NULL };
        AgentExec e = { .flags = AGENT_EXEC_TTY, .rows = 24, .cols = 80, .argv = argv, .envp = envp }, out = {};
        uint8_t *buf;
        size_t size;
        AgentFrame f;

        assert_int_equal(agent_exec_encode(&e, &buf, &size), 0);
        f = (AgentFrame) { .type = AGENT_EXEC, .session = 1, .length = (uint32_t) size, .payload = buf };
        assert_int_equal(agent_exec_parse(&f, &out), 0);
        assert_int_equal(out.flags, AGENT_EXEC_TTY);
        assert_int_equal(out.rows, 24);
        assert_int_equal(out.cols, 80);
        assert_string_equal(out.argv[0], "/bin/echo");
        assert_string_equal(out.argv[2], "");
        assert_string_equal(out.argv[3], "a b");
        assert_null(out.argv[4]);
        assert_string_equal(out.envp[0], "TERM=xterm");
        assert_null(out.envp[1]);
        agent_exec_done(&out);

        /* Trailing garbage, a missing NUL, a count larger than the payload,
         * an environment entry without '=', unknown flags. */
        buf[size - 1] = 'x';
        assert_int_equal(agent_exec_parse(&f, &out), -EBADMSG);
        buf[size - 1] = 0;
        f.length = (uint32_t) size + 0;
        buf[8] = 2;
        assert_int_equal(agent_exec_parse(&f, &out), -EBADMSG);
        buf[8] = 1;
        buf[7] = 0xff;
        assert_int_equal(agent_exec_parse(&f, &out), -EBADMSG);
        buf[7] = 0;
        buf[0] = 0x80;
        assert_int_equal(agent_exec_parse(&f, &out), -EBADMSG);
        buf[0] = 0;
        memcpy(buf + size - 11, "TERMxxterm", 10);
        assert_int_equal(agent_exec_parse(&f, &out), -EBADMSG);
        free(buf);

        char *empty[] = { (char *) "", NULL };
        e.argv = empty;
        assert_int_equal(agent_exec_encode(&e, &buf, &size), -EINVAL);
}

static void test_exec_too_big(void **state) {
        char *big = malloc(AGENT_PAYLOAD_MAX);
        assert_non_null(big);
        char *argv[] = { big, NULL };
        AgentExec e = { .argv = argv };
        uint8_t *buf;
        size_t size;

        memset(big, 'a', AGENT_PAYLOAD_MAX - 1);
        big[AGENT_PAYLOAD_MAX - 1] = 0;
        assert_int_equal(agent_exec_encode(&e, &buf, &size), -E2BIG);
        free(big);
}

static void test_small_parsers(void **state) {
        uint8_t p[5] = { AGENT_EXIT_STATUS, 0, 0, 1, 0 };
        AgentFrame f = { .type = AGENT_EXIT, .length = 5, .payload = p };
        AgentExitKind k;
        uint32_t v;
        char msg[8];
        int err;

        assert_int_equal(agent_parse_exit(&f, &k, &v), -EBADMSG);  /* status 256 */
        p[3] = 0;
        p[4] = 42;
        assert_int_equal(agent_parse_exit(&f, &k, &v), 0);
        assert_int_equal(v, 42);
        p[0] = 7;
        assert_int_equal(agent_parse_exit(&f, &k, &v), -EBADMSG);
        f.length = 4;
        assert_int_equal(agent_parse_exit(&f, &k, &v), -EBADMSG);

        uint8_t e[] = { 0, 0, 0, 2, 'n', 'o', '\n', 'p', 'e', '!', '!', '!', '!' };
        f = (AgentFrame) { .type = AGENT_ERROR, .length = sizeof(e), .payload = e };
        assert_int_equal(agent_parse_error(&f, &err, msg, sizeof(msg)), 0);
        assert_int_equal(err, ENOENT);
        assert_string_equal(msg, "no?pe!!");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip_bytewise),
                cmocka_unit_test(test_golden_wire_bytes),
                cmocka_unit_test(test_golden_exec),
                cmocka_unit_test(test_golden_wake),
                cmocka_unit_test(test_golden_header_decode),
                cmocka_unit_test(test_bad_headers),
                cmocka_unit_test(test_max_payload),
                cmocka_unit_test(test_exec_roundtrip),
                cmocka_unit_test(test_exec_too_big),
                cmocka_unit_test(test_small_parsers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
