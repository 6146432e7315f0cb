/* SPDX-License-Identifier: MIT */
#pragma once

/* What a fuzz target made of its last input, for the corpus replay
 * (tests/fuzz/replay.c), which checks it against the corpus' EXPECTED file:
 * a seed that should be refused and is now accepted (or the reverse) fails
 * there. Under libFuzzer nobody reads it. */
typedef enum FuzzVerdict {
        FUZZ_UNSET,
        FUZZ_ACCEPTED,
        FUZZ_REJECTED,
} FuzzVerdict;

extern FuzzVerdict fuzz_verdict;       /* defined by each target */
