/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the agent protocol decoder and payload parsers: the
 * bytes a guest (or a hostile process on the host) may send. Whatever the
 * input, no crash, leak or undefined behaviour, and (abort() otherwise):
 *  - the decoder never takes more than it is offered;
 *  - a decoded frame has a payload within AGENT_PAYLOAD_MAX, and it is the
 *    input's next bytes: its header encodes back to them, its payload is
 *    theirs;
 *  - an EXEC payload that parses encodes back to the same bytes.
 * Verdict (for the corpus replay): accepted when the input is whole frames
 * and every payload parsed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent-protocol.h"
#include "fuzz-verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

FuzzVerdict fuzz_verdict;

/* One frame's payload; 0 if it parses (or has no parser), else < 0. */
static int parse_payload(const AgentFrame *f) {
        AgentExec e = {};
        uint16_t a, b;
        uint32_t v;
        uint8_t u;
        AgentExitKind k;
        char msg[64];
        int err, r = 0;

        switch (f->type) {
        case AGENT_EXEC:
                r = agent_exec_parse(f, &e);
                if (r == 0) {
                        uint8_t *again = NULL;
                        size_t n;

                        if (agent_exec_encode(&e, &again, &n) < 0 || n != f->length ||
                            memcmp(again, f->payload, n) != 0)
                                abort();        /* what parses must encode back */
                        free(again);
                        agent_exec_done(&e);
                }
                break;
        case AGENT_HELLO:
                r = agent_parse_hello(f, &a, &b);
                break;
        case AGENT_WINCH:
                r = agent_parse_winch(f, &a, &b);
                break;
        case AGENT_SIGNAL:
                r = agent_parse_u32(f, &v);
                break;
        case AGENT_EOF:
                r = agent_parse_u8(f, &u);
                break;
        case AGENT_EXIT:
                r = agent_parse_exit(f, &k, &v);
                break;
        case AGENT_ERROR:
                r = agent_parse_error(f, &err, msg, sizeof(msg));
                break;
        }
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static AgentDecoder d;
        AgentFrame f;
        size_t off = 0, pos = 0;       /* fed so far; where the next frame starts */
        bool bad = false;

        fuzz_verdict = FUZZ_REJECTED;
        agent_decoder_init(&d);
        /* The first byte picks a chunk size, so that split reads are
         * exercised too. */
        size_t chunk = size > 0 ? (data[0] % 17) + 1 : 1;

        while (off < size) {
                size_t n = size - off < chunk ? size - off : chunk;
                size_t taken = agent_decoder_feed(&d, data + off, n);

                if (taken > n)
                        abort();
                off += taken;
                for (;;) {
                        uint8_t h[AGENT_HEADER_SIZE];
                        int r = agent_decoder_next(&d, &f);

                        if (r < 0)
                                return 0;
                        if (r == 0)
                                break;
                        if (f.length > AGENT_PAYLOAD_MAX || pos + AGENT_HEADER_SIZE + f.length > off)
                                abort();
                        agent_header_encode(h, f.type, f.session, f.length);
                        if (memcmp(h, data + pos, AGENT_HEADER_SIZE) != 0 ||
                            (f.length > 0 && memcmp(f.payload, data + pos + AGENT_HEADER_SIZE, f.length) != 0))
                                abort();
                        pos += AGENT_HEADER_SIZE + f.length;
                        if (parse_payload(&f) < 0)
                                bad = true;
                }
                if (taken == 0)
                        return 0;
        }
        /* Accepted: whole frames only, each payload parses. */
        if (!bad && pos == size)
                fuzz_verdict = FUZZ_ACCEPTED;
        return 0;
}
