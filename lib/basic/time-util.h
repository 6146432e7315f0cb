/* SPDX-License-Identifier: MIT */
#pragma once

/* The time, one way (systemd's now()): microseconds on a clock. */

#include <stdint.h>
#include <time.h>

typedef uint64_t usec_t;

#define USEC_PER_SEC  1000000ULL
#define USEC_PER_MSEC 1000ULL
#define NSEC_PER_USEC 1000ULL

static inline usec_t now(clockid_t clock) {
        struct timespec ts;

        /* Cannot fail for the clocks used here (EINVAL, EFAULT only). */
        (void) clock_gettime(clock, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / NSEC_PER_USEC;
}

/* CLOCK_MONOTONIC in milliseconds: deadlines of poll() loops. */
static inline uint64_t now_ms(void) {
        return now(CLOCK_MONOTONIC) / USEC_PER_MSEC;
}
