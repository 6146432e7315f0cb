/* SPDX-License-Identifier: MIT */
/* Test helper: plays the VMM. Attaches to an existing TAP on the host side
 * (as Firecracker does, optionally as an unprivileged uid, to prove the
 * device's owner) and relays its frames to and from a new TAP inside another
 * network namespace, which stands in for the guest's eth0.
 *
 *   tap-relay [--uid UID] HOST_TAP GUEST_NETNS_PATH GUEST_IF
 *
 * Prints "ready" once both ends are open; runs until killed. */

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <grp.h>
#include <unistd.h>

static int tap_open(const char *name) {
        struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int main(int argc, char *argv[]) {
        int uid = -1, self_ns, guest_ns, host_fd, guest_fd;
        char buf[65536];

        if (argc > 2 && strcmp(argv[1], "--uid") == 0) {
                uid = atoi(argv[2]);
                argv += 2;
                argc -= 2;
        }
        if (argc != 4) {
                fprintf(stderr, "usage: tap-relay [--uid UID] HOST_TAP GUEST_NETNS_PATH GUEST_IF\n");
                return 2;
        }

        self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        guest_ns = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (self_ns < 0 || guest_ns < 0 || setns(guest_ns, CLONE_NEWNET) < 0) {
                perror("tap-relay: entering the guest namespace");
                return 1;
        }
        guest_fd = tap_open(argv[3]);
        if (guest_fd < 0 || setns(self_ns, CLONE_NEWNET) < 0) {
                fprintf(stderr, "tap-relay: guest TAP %s: %s\n", argv[3], strerror(-guest_fd));
                return 1;
        }
        if (uid >= 0 && (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)) {
                perror("tap-relay: dropping privileges");
                return 1;
        }
        host_fd = tap_open(argv[1]);
        if (host_fd < 0) {
                fprintf(stderr, "tap-relay: attaching to %s: %s\n", argv[1], strerror(-host_fd));
                return 1;
        }
        printf("ready\n");
        fflush(stdout);

        for (;;) {
                struct pollfd p[2] = { { host_fd, POLLIN, 0 }, { guest_fd, POLLIN, 0 } };

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return 1;
                }
                for (int i = 0; i < 2; i++) {
                        ssize_t n;

                        if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL))
                                return 0;       /* the host TAP was deleted */
                        if (!(p[i].revents & POLLIN))
                                continue;
                        n = read(p[i].fd, buf, sizeof(buf));
                        if (n <= 0)
                                return 0;
                        (void) !write(i == 0 ? guest_fd : host_fd, buf, n);
                }
        }
}
