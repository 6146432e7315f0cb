/* SPDX-License-Identifier: MIT */
#pragma once

/* State shared by the parts of one flake-pull run. */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "macro.h"

/* Exit statuses (flake-pull(8)): usage errors are 2, as for flake-ctl. */
#define PULL_EXIT_FAILURE 1
#define PULL_EXIT_USAGE 2

typedef struct PullOptions {
        bool quiet;
        bool allow_insecure;        /* http:// allowed, redirects too */
        unsigned retries;           /* extra attempts on transient errors */
        unsigned retry_delay_ms;    /* first backoff delay, doubled each time */
        const char *ca_bundle;      /* NULL: libcurl's default */
        uint64_t max_size;          /* what a KIS archive may unpack to */
} PullOptions;

/* The default of --max-size / FLAKE_PULL_MAX_SIZE (flake-pull(8)): far
 * above any KIWI image, far below what takes hours to hash. */
#define PULL_MAX_SIZE_DEFAULT (32ULL * 1024 * 1024 * 1024)

/* Set from SIGINT/SIGTERM/SIGHUP: every loop that waits on the network or
 * the archive checks it, and the run unwinds through its normal cleanup, so
 * an interrupted pull leaves the registry exactly as it was. */
extern volatile sig_atomic_t pull_interrupted;

/* Fills o from the environment (FLAKE_ALLOW_INSECURE_TRANSPORT,
 * FLAKE_PULL_RETRIES, FLAKE_PULL_RETRY_DELAY_MS, FLAKE_CA_BUNDLE,
 * FLAKE_PULL_MAX_SIZE). */
void pull_options_from_env(PullOptions *o);

/* Small helpers systemd's macro.h has and lib/basic/macro.h does not (yet). */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

#define free_and_replace(a, b)                  \
        ({                                      \
                free(a);                        \
                (a) = (b);                      \
                (b) = NULL;                     \
                0;                              \
        })

#define IN_SET(x, ...)                                                  \
        ({                                                              \
                const long _set_[] = { __VA_ARGS__ };                   \
                const long _x_ = (long) (x);                            \
                bool _found_ = false;                                   \
                for (size_t _i_ = 0; _i_ < ELEMENTSOF(_set_); _i_++)    \
                        if (_set_[_i_] == _x_)                          \
                                _found_ = true;                         \
                _found_;                                                \
        })
