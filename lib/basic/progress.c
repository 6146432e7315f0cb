/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>

#include "macro.h"
#include "progress.h"

#define PROGRESS_FRAME_NSEC (100 * 1000 * 1000L)

struct Progress {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        bool spinning;
        char *text;
};

/* Unbuffered writes straight to the fd: stdio's stderr is shared with the
 * logger in the main thread. */
static void put_n(const char *s, size_t n) {
        while (n > 0) {
                ssize_t k = write(STDERR_FILENO, s, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                s += k;
                n -= (size_t) k;
        }
}

static void put(const char *s) {
        put_n(s, strlen(s));
}

static size_t terminal_columns(void) {
        struct winsize ws = {};

        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return 80;
        return ws.ws_col;
}

static void *spin(void *userdata) {
        static const char frames[] = "|/-\\";
        Progress *p = userdata;
        char line[256];

        pthread_mutex_lock(&p->lock);
        for (unsigned i = 0; !p->stop; i++) {
                struct timespec until;
                size_t n;

                /* A frame narrower than the terminal (a wrapped line cannot
                 * be redrawn from its start), and the cursor back at the
                 * line's start afterwards: what else reaches the terminal
                 * meanwhile (podman's errors, the pilot's log lines) then
                 * starts a line of its own instead of being glued to the
                 * frame, and the next frame goes to the line below it. */
                n = (size_t) snprintf(line, sizeof(line), "%c %s...", frames[i % 4], p->text);
                if (n > sizeof(line) - 1)
                        n = sizeof(line) - 1;
                if (n > terminal_columns() - 1)
                        n = terminal_columns() - 1;
                put("\r\033[K");
                put_n(line, n);
                put("\r");
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_nsec += PROGRESS_FRAME_NSEC;
                if (until.tv_nsec >= 1000000000L) {
                        until.tv_sec++;
                        until.tv_nsec -= 1000000000L;
                }
                while (!p->stop && pthread_cond_timedwait(&p->cond, &p->lock, &until) != ETIMEDOUT)
                        ;
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

Progress *progress_start(const char *text) {
        Progress *p;

        if (!isatty(STDERR_FILENO))
                return NULL;
        p = xmalloc(sizeof(Progress));
        *p = (Progress) {};
        p->text = xstrdup(text);
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        /* Without a thread there is no spinner, but still the final line. */
        p->spinning = pthread_create(&p->thread, NULL, spin, p) == 0;
        return p;
}

void progress_finish(Progress *p, bool success) {
        char line[300];

        if (!p)
                return;
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
        if (p->spinning)
                pthread_join(p->thread, NULL);
        /* \033[K: clear what is left of the spinner line. */
        snprintf(line, sizeof(line), "\r\033[K%s... %s\n", p->text, success ? "done" : "failed");
        put(line);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->cond);
        free(p->text);
        free(p);
}
