/* SPDX-License-Identifier: MIT */
#pragma once

/* Download progress on stderr: a redrawn bar with bytes, rate and ETA on a
 * terminal; otherwise (a pipe, the journal of flake-pull@) one plain line
 * every few seconds, so logs stay readable. */

#include <stdbool.h>
#include <stdint.h>

typedef struct DownloadBar {
        const char *label;
        bool enabled;
        bool tty;
        uint64_t start_usec;
        uint64_t last_usec;
        uint64_t now_bytes;
        uint64_t total_bytes;       /* 0: unknown */
        bool drawn;
} DownloadBar;

void download_bar_init(DownloadBar *p, const char *label, bool quiet);
/* Rate limited: cheap to call on every received block. */
void download_bar_update(DownloadBar *p, uint64_t now_bytes, uint64_t total_bytes);
/* Final line (success) or just ends the bar (failure). */
void download_bar_done(DownloadBar *p, bool success);
