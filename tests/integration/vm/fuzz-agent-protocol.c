/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the agent protocol decoder and payload parsers: the
 * bytes a guest (or a hostile process on the host) may send. */
#include <stdint.h>
#include <stdlib.h>

#include "agent-protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static AgentDecoder d;
        AgentFrame f;
        size_t off = 0;

        agent_decoder_init(&d);
        /* The first byte picks a chunk size, so that split reads are
         * exercised too. */
        size_t chunk = size > 0 ? (data[0] % 17) + 1 : 1;

        while (off < size) {
                size_t n = size - off < chunk ? size - off : chunk;
                size_t taken = agent_decoder_feed(&d, data + off, n);
                off += taken;
                for (;;) {
                        int r = agent_decoder_next(&d, &f);
                        if (r < 0)
                                return 0;
                        if (r == 0)
                                break;
                        AgentExec e = {};
                        uint16_t a, b;
                        uint32_t v;
                        uint8_t u;
                        AgentExitKind k;
                        char msg[64];
                        int err;

                        switch (f.type) {
                        case AGENT_EXEC:
                                if (agent_exec_parse(&f, &e) == 0)
                                        agent_exec_done(&e);
                                break;
                        case AGENT_HELLO:
                                (void) agent_parse_hello(&f, &a, &b);
                                break;
                        case AGENT_WINCH:
                                (void) agent_parse_winch(&f, &a, &b);
                                break;
                        case AGENT_SIGNAL:
                                (void) agent_parse_u32(&f, &v);
                                break;
                        case AGENT_EOF:
                                (void) agent_parse_u8(&f, &u);
                                break;
                        case AGENT_EXIT:
                                (void) agent_parse_exit(&f, &k, &v);
                                break;
                        case AGENT_ERROR:
                                (void) agent_parse_error(&f, &err, msg, sizeof(msg));
                                break;
                        }
                }
                if (taken == 0)
                        return 0;
        }
        return 0;
}
