/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "download-bar.h"
#include "time-util.h"

#define TTY_INTERVAL_USEC (USEC_PER_SEC / 10)
#define PLAIN_INTERVAL_USEC (5 * USEC_PER_SEC)

static void format_bytes(char *buf, size_t n, double v) {
        static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        size_t u = 0;

        while (v >= 1024 && u < ELEMENTSOF(units) - 1) {
                v /= 1024;
                u++;
        }
        snprintf(buf, n, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static void format_duration(char *buf, size_t n, double secs) {
        unsigned long s = secs < 0 ? 0 : (unsigned long) (secs + 0.5);

        if (s >= 3600)
                snprintf(buf, n, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
        else
                snprintf(buf, n, "%lu:%02lu", s / 60, s % 60);
}

void download_bar_init(DownloadBar *p, const char *label, bool quiet) {
        *p = (DownloadBar) {
                .label = label,
                .enabled = !quiet,
                .tty = isatty(STDERR_FILENO) > 0,
                .start_usec = now(CLOCK_MONOTONIC),
        };
        p->last_usec = p->start_usec;
}

#define BAR_MIN 10
#define BAR_MAX 50

/* The real width, however narrow: a line longer than the terminal wraps,
 * and \r then only returns to its last row, so that every redraw leaves a
 * line behind. */
static unsigned terminal_columns(void) {
        struct winsize ws = {};

        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return 80;
        return ws.ws_col;
}

static void draw(DownloadBar *p, uint64_t t) {
        double elapsed = (double) (t - p->start_usec) / USEC_PER_SEC;
        double rate = elapsed > 0 ? (double) p->now_bytes / elapsed : 0;
        char now[32], total[32], speed[32], eta[32] = "--:--";

        format_bytes(now, sizeof(now), (double) p->now_bytes);
        format_bytes(total, sizeof(total), (double) p->total_bytes);
        format_bytes(speed, sizeof(speed), rate);
        if (p->total_bytes > 0 && rate > 0 && p->now_bytes <= p->total_bytes)
                format_duration(eta, sizeof(eta), (double) (p->total_bytes - p->now_bytes) / rate);

        if (!p->tty) {
                if (p->total_bytes > 0)
                        fprintf(stderr, "%s: %s of %s (%u%%), %s/s, ETA %s\n", p->label, now, total,
                                (unsigned) (p->now_bytes * 100 / p->total_bytes), speed, eta);
                else
                        fprintf(stderr, "%s: %s, %s/s\n", p->label, now, speed);
                return;
        }

        /* The line (label, " [", bar, "]", info) stays within the terminal's
         * width minus its last column (writing there leaves some terminals
         * about to wrap). What gives way when it is narrow: speed and ETA,
         * then the byte counts, then the bar shrinks below BAR_MIN. */
        char info[3][160] = {};        /* room for all of it: nothing is cut */
        size_t room = terminal_columns() - 1, label_len = strlen(p->label), fixed;
        unsigned width, k;

        if (p->total_bytes > 0) {
                snprintf(info[0], sizeof(info[0]), " %s/%s %s/s ETA %s", now, total, speed, eta);
                snprintf(info[1], sizeof(info[1]), " %s/%s", now, total);
        } else {
                snprintf(info[0], sizeof(info[0]), " %s %s/s", now, speed);
                snprintf(info[1], sizeof(info[1]), " %s", now);
        }
        for (k = 0; k < 2; k++)
                if (label_len + 3 + BAR_MIN + strlen(info[k]) <= room)
                        break;
        fixed = label_len + 3 + strlen(info[k]);
        width = room > fixed ? (unsigned) (room - fixed) : 0;
        if (width > BAR_MAX)
                width = BAR_MAX;
        if (width == 0) {
                /* Not even the label and a bar fit: the label alone. */
                fprintf(stderr, "\r%.*s\033[K", (int) room, p->label);
                fflush(stderr);
                p->drawn = true;
                return;
        }

        fprintf(stderr, "\r%s [", p->label);
        unsigned filled = p->total_bytes > 0 ? (unsigned) ((double) p->now_bytes / (double) p->total_bytes * width) : 0;
        for (unsigned i = 0; i < width; i++)
                fputc(i < filled ? '#' : (p->total_bytes > 0 ? '-' : ' '), stderr);
        fprintf(stderr, "]%s\033[K", info[k]);
        fflush(stderr);
        p->drawn = true;
}

void download_bar_update(DownloadBar *p, uint64_t now_bytes, uint64_t total_bytes) {
        uint64_t t;

        p->now_bytes = now_bytes;
        if (total_bytes > 0)
                p->total_bytes = total_bytes;
        if (!p->enabled)
                return;
        t = now(CLOCK_MONOTONIC);
        if (t - p->last_usec < (p->tty ? TTY_INTERVAL_USEC : PLAIN_INTERVAL_USEC))
                return;
        p->last_usec = t;
        draw(p, t);
}

void download_bar_done(DownloadBar *p, bool success) {
        uint64_t t = now(CLOCK_MONOTONIC);

        if (!p->enabled)
                return;
        if (success) {
                double elapsed = (double) (t - p->start_usec) / USEC_PER_SEC;
                char now[32], speed[32];

                if (p->tty) {
                        p->total_bytes = p->now_bytes;
                        draw(p, t);
                        fputc('\n', stderr);
                        return;
                }
                format_bytes(now, sizeof(now), (double) p->now_bytes);
                format_bytes(speed, sizeof(speed), elapsed > 0 ? (double) p->now_bytes / elapsed : 0);
                fprintf(stderr, "%s: %s in %.1f s (%s/s)\n", p->label, now, elapsed, speed);
        } else if (p->drawn)
                fputc('\n', stderr);
}
