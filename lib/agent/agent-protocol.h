/* SPDX-License-Identifier: MIT */
#pragma once

/* The flake agent protocol: sessions between a host pilot and sci, the agent
 * inside a VM guest. Documented in flake-agent-protocol(7).
 *
 * Every message is a frame: a 12-byte header followed by up to
 * AGENT_PAYLOAD_MAX bytes of payload. All integers are big-endian.
 *
 *   offset 0  u8[2] magic "FA"
 *          2  u8    protocol version (AGENT_PROTOCOL_VERSION)
 *          3  u8    type (AgentFrameType)
 *          4  u32   session id (0: the connection itself)
 *          8  u32   payload length
 *
 * This file depends on libc only: it is linked into the static sci as well as
 * into the host tools, and it is the target of the protocol fuzzer. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_PROTOCOL_VERSION 1
#define AGENT_HEADER_SIZE 12
#define AGENT_PAYLOAD_MAX (64U * 1024U)
#define AGENT_FRAME_MAX (AGENT_HEADER_SIZE + AGENT_PAYLOAD_MAX)
#define AGENT_VSOCK_PORT 52
/* Name of the virtio-serial port (/dev/virtio-ports/NAME in the guest). */
#define AGENT_SERIAL_PORT_NAME "org.flakes.agent.0"
/* sci's modes, as KEY=1 on the kernel command line (sci(8)): a VM that
 * stays up between sessions, and sessions over the agent for a one-shot VM. */
#define SCI_ARG_RESUME "sci_resume"
#define SCI_ARG_FORCE_VSOCK "sci_force_vsock"
/* Bounds on an EXEC request, so that a hostile peer cannot make the other
 * side allocate without limit. */
#define AGENT_EXEC_ARGS_MAX 4096

typedef enum AgentFrameType {
        AGENT_HELLO  = 1,   /* u16 lowest, u16 highest version spoken */
        AGENT_EXEC   = 2,   /* see AgentExec */
        AGENT_STDIN  = 3,   /* bytes */
        AGENT_STDOUT = 4,   /* bytes */
        AGENT_STDERR = 5,   /* bytes */
        AGENT_EOF    = 6,   /* u8 stream: AgentStream */
        AGENT_WINCH  = 7,   /* u16 rows, u16 columns */
        AGENT_SIGNAL = 8,   /* u32 signal number (Linux numbering) */
        AGENT_EXIT   = 9,   /* u8 kind (AgentExitKind), u32 value */
        AGENT_ERROR  = 10,  /* u32 errno, message (no NUL) */
        AGENT_WAKE   = 11,  /* host: u64 wall clock (ns), seed; agent: empty */
        _AGENT_FRAME_TYPE_MAX,
} AgentFrameType;

typedef enum AgentStream {
        AGENT_STREAM_STDIN  = 0,
        AGENT_STREAM_STDOUT = 1,
        AGENT_STREAM_STDERR = 2,
} AgentStream;

typedef enum AgentExitKind {
        AGENT_EXIT_STATUS = 0,     /* value: exit status 0..255 */
        AGENT_EXIT_SIGNAL = 1,     /* value: signal number */
} AgentExitKind;

#define AGENT_EXEC_TTY 0x01

/* WAKE (host to agent, session 0): sent after a VM was restored from a
 * snapshot, before any session: u64 CLOCK_REALTIME in nanoseconds, then
 * the seed, AGENT_WAKE_SEED_MIN..AGENT_WAKE_SEED_MAX bytes, which the agent
 * mixes into the guest kernel's random pool (credited) before it reseeds
 * it. The agent answers with an empty WAKE. */
#define AGENT_WAKE_SEED_MIN 32U
#define AGENT_WAKE_SEED_MAX 256U

typedef struct AgentFrame {
        uint8_t type;
        uint32_t session;
        uint32_t length;
        const uint8_t *payload;    /* points into the decoder's buffer */
} AgentFrame;

/* Incremental decoder: bytes go in in any chunking, frames come out. */
typedef struct AgentDecoder {
        uint8_t buf[AGENT_FRAME_MAX];
        size_t n;                  /* bytes buffered */
        size_t consumed;           /* bytes of the frame handed out last */
} AgentDecoder;

void agent_decoder_init(AgentDecoder *d);
/* Where to read more bytes to, and how many fit. */
void agent_decoder_space(AgentDecoder *d, uint8_t **ret_ptr, size_t *ret_size);
void agent_decoder_advance(AgentDecoder *d, size_t n);
/* Copies as much of data as fits; returns the number of bytes taken. */
size_t agent_decoder_feed(AgentDecoder *d, const void *data, size_t size);
/* Returns 1 and a frame (valid until the next call), 0 if more bytes are
 * needed, -EBADMSG on a bad magic, type or length, -EPROTONOSUPPORT on a
 * version other than ours. After an error the stream is unusable. */
int agent_decoder_next(AgentDecoder *d, AgentFrame *ret);

/* Header encoding. */
void agent_header_encode(uint8_t out[AGENT_HEADER_SIZE], uint8_t type, uint32_t session, uint32_t length);

/* Writes one frame to a blocking fd, retrying on EINTR and short writes. */
int agent_write_frame(int fd, uint8_t type, uint32_t session, const void *payload, size_t length);

/* Small typed frames. */
int agent_send_hello(int fd);
int agent_send_eof(int fd, uint32_t session, AgentStream stream);
int agent_send_winch(int fd, uint32_t session, uint16_t rows, uint16_t cols);
int agent_send_signal(int fd, uint32_t session, uint32_t signo);
int agent_send_exit(int fd, uint32_t session, AgentExitKind kind, uint32_t value);
int agent_send_error(int fd, uint32_t session, int error, const char *message);
int agent_send_wake(int fd, uint64_t realtime_ns, const void *seed, size_t seed_size);

/* Payload parsers: strict about lengths; -EBADMSG on anything malformed. */
int agent_parse_hello(const AgentFrame *f, uint16_t *ret_min, uint16_t *ret_max);
int agent_parse_u8(const AgentFrame *f, uint8_t *ret);
int agent_parse_u32(const AgentFrame *f, uint32_t *ret);
int agent_parse_winch(const AgentFrame *f, uint16_t *ret_rows, uint16_t *ret_cols);
int agent_parse_exit(const AgentFrame *f, AgentExitKind *ret_kind, uint32_t *ret_value);
int agent_parse_error(const AgentFrame *f, int *ret_error, char *msg, size_t msg_size);
/* The host's WAKE; *ret_seed points into the frame. */
int agent_parse_wake(const AgentFrame *f, uint64_t *ret_realtime_ns, const uint8_t **ret_seed,
                     size_t *ret_seed_size);

/* EXEC payload:
 *   u8 flags (AGENT_EXEC_TTY), u16 rows, u16 columns, u16 argc, u16 envc,
 *   then argc + envc NUL-terminated strings (argv first, then "KEY=value").
 * argc must be at least 1 and argv[0] non-empty. */
typedef struct AgentExec {
        uint8_t flags;
        uint16_t rows, cols;
        char **argv;               /* NULL-terminated; one allocation each */
        char **envp;
} AgentExec;

/* Encodes into a new buffer (caller frees); -E2BIG if it would not fit in
 * one frame. */
int agent_exec_encode(const AgentExec *e, uint8_t **ret, size_t *ret_size);
int agent_exec_parse(const AgentFrame *f, AgentExec *ret);
void agent_exec_done(AgentExec *e);

const char *agent_frame_type_to_string(uint8_t type);
