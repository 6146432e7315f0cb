/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "sci-util.h"
#include "sci-wake.h"

/* Credited, so the kernel counts it as entropy; RNDRESEEDCRNG then makes
 * the CRNG (and every CPU's copy) draw from the pool now, not within the
 * minute it otherwise waits: the restored state is the snapshot's, the
 * same in every restore. */
static int seed_random(const uint8_t *seed, size_t n) {
        struct {
                int entropy_count;
                int buf_size;
                uint8_t buf[AGENT_WAKE_SEED_MAX];
        } e = { .entropy_count = (int) n * 8, .buf_size = (int) n };
        int fd, r = 0;

        memcpy(e.buf, seed, n);
        fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, RNDADDENTROPY, &e) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
                r = -errno;
        close(fd);
        explicit_bzero(&e, sizeof(e));
        return r;
}

int sci_wake(int fd, const AgentFrame *f, bool apply) {
        const uint8_t *seed;
        struct timespec ts;
        uint64_t ns;
        size_t n;
        int r;

        if (agent_parse_wake(f, &ns, &seed, &n) < 0)
                return -EBADMSG;
        if (!apply) {
                sci_dbg("WAKE outside a VM guest: clock and random pool left alone");
                return agent_write_frame(fd, AGENT_WAKE, 0, NULL, 0);
        }
        ts = (struct timespec) { .tv_sec = (time_t) (ns / 1000000000ULL), .tv_nsec = (long) (ns % 1000000000ULL) };
        if (clock_settime(CLOCK_REALTIME, &ts) < 0)
                sci_log("cannot set the clock to the host's: %s", strerror(errno));
        r = seed_random(seed, n);
        /* One console line per restore (the VM's journal): that the seed
         * reached the kernel is otherwise invisible, the guest's numbers
         * differ between restores anyway once the kernel reseeds itself. */
        if (r < 0)
                sci_log("cannot reseed the random pool: %s", strerror(-r));
        else
                sci_log("woken: the host's clock, %zu bits of its seed credited to the random pool, reseeded", n * 8);
        return agent_write_frame(fd, AGENT_WAKE, 0, NULL, 0);
}
