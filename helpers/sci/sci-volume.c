/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sci-modules.h"
#include "sci-util.h"
#include "sci-volume.h"

void sci_volumes_done(SciVolumes *v) {
        free(v->buf);
        *v = (SciVolumes) {};
}

int sci_volumes_parse(const char *value, SciVolumes *v, char *err, size_t err_size) {
        SciVolumes n = {};
        const char *problem;

        problem = nfs_volume_list_problem(value, err, err_size);
        if (problem)
                return -EINVAL;
        n.buf = strdup(value);
        if (!n.buf)
                return -ENOMEM;
        for (char *p = n.buf, *next; p; p = next) {
                const char *part;

                next = strchr(p, NFS_VOLUME_DELIMITER);
                if (next)
                        *next++ = 0;
                if (n.n == SCI_VOLUMES_MAX) {
                        snprintf(err, err_size, "more than %d volumes", SCI_VOLUMES_MAX);
                        free(n.buf);
                        return -E2BIG;
                }
                /* Checked above: cannot fail. */
                if (nfs_volume_parse(p, &n.v[n.n++], &part, &problem) < 0) {
                        free(n.buf);
                        return -EINVAL;
                }
        }
        sci_volumes_done(v);
        *v = n;
        return 0;
}

int sci_volume_options(const NfsVolume *v, const char *minor_version, const char *clientaddr,
                       char *buf, size_t size) {
        int n = snprintf(buf, size, "vers=4.%s,addr=%s,clientaddr=%s", minor_version, v->server, clientaddr);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/* The guest's address on the way to server (what mount.nfs passes as
 * clientaddr, for the server's callbacks): the source of a route lookup. */
static int client_address(const char *server, char *buf, size_t size) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(2049) };
        socklen_t l = sizeof(sa);
        int fd, r = 0;

        if (inet_pton(AF_INET, server, &sa.sin_addr) != 1)
                return -EINVAL;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            getsockname(fd, (struct sockaddr *) &sa, &l) < 0)
                r = -errno;
        close(fd);
        if (r == 0 && !inet_ntop(AF_INET, &sa.sin_addr, buf, size))
                r = -errno;
        return r;
}

static int mkdir_p(const char *path) {
        char p[4096];
        size_t l = strlen(path);

        if (l >= sizeof(p))
                return -ENAMETOOLONG;
        memcpy(p, path, l + 1);
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = 0;
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static unsigned long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long) ts.tv_sec * 1000ULL + (unsigned long long) ts.tv_nsec / 1000000ULL;
}

/* mount(2) in a child, so that a server that does not answer costs
 * timeout_ms and not the boot: the RPC client retries a silent server for
 * minutes. -ETIMEDOUT then; the child is killed (NFS waits are killable)
 * and, should it not go, left behind: the VM is powered off anyway. */
static int mount_bounded(const char *what, const char *where, const char *opts, unsigned timeout_ms) {
        unsigned long long deadline = now_ms() + timeout_ms;
        bool killed = false;
        int status;
        pid_t pid;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                _exit(mount(what, where, "nfs", 0, opts) < 0 ? (errno & 0xff) : 0);
        for (;;) {
                pid_t p = waitpid(pid, &status, WNOHANG);

                if (p == pid)
                        break;
                if (p < 0 && errno != EINTR)
                        return -errno;
                if (!killed && now_ms() >= deadline) {
                        (void) kill(pid, SIGKILL);
                        killed = true;
                        deadline = now_ms() + 2000;
                } else if (killed && now_ms() >= deadline)
                        return -ETIMEDOUT;
                usleep(20 * 1000);
        }
        if (killed)
                return -ETIMEDOUT;
        if (!WIFEXITED(status))
                return -EINTR;
        return -WEXITSTATUS(status);
}

static int mount_volume(const NfsVolume *v, unsigned timeout_ms) {
        /* As mount.nfs negotiates: the newest minor version the server speaks. */
        static const char * const minor[] = { "2", "1", "0" };
        char what[4096], opts[256], client[INET_ADDRSTRLEN];
        int r;

        r = client_address(v->server, client, sizeof(client));
        if (r < 0) {
                sci_log("nfs: no route to the volume server %s: %s", v->server, strerror(-r));
                return r;
        }
        if ((size_t) snprintf(what, sizeof(what), "%s:%s", v->server, v->host_path) >= sizeof(what))
                return -ENAMETOOLONG;
        r = mkdir_p(v->guest_path);
        if (r < 0) {
                sci_log("nfs: cannot create the mount point %s: %s", v->guest_path, strerror(-r));
                return r;
        }
        for (size_t i = 0; i < sizeof(minor) / sizeof(minor[0]); i++) {
                r = sci_volume_options(v, minor[i], client, opts, sizeof(opts));
                if (r < 0)
                        return r;
                r = mount_bounded(what, v->guest_path, opts, timeout_ms);
                if (r != -EPROTONOSUPPORT && r != -EINVAL)
                        break;
        }
        if (r == -ETIMEDOUT)
                sci_log("nfs: cannot mount %s on %s: the server did not answer within %u s",
                        what, v->guest_path, timeout_ms / 1000);
        else if (r == -ENODEV)
                sci_log("nfs: cannot mount %s on %s: the kernel has no NFSv4 client (module nfsv4)",
                        what, v->guest_path);
        else if (r < 0)
                sci_log("nfs: cannot mount %s on %s: %s", what, v->guest_path, strerror(-r));
        else
                sci_dbg("nfs: %s on %s (%s)", what, v->guest_path, opts);
        return r;
}

int sci_volumes_mount(const SciVolumes *v, unsigned timeout_ms) {
        int r;

        if (v->n == 0)
                return 0;
        /* The kernel's own request_module() would run /sbin/modprobe, which
         * an image may not have there; sci asks the image's modprobe. */
        (void) sci_modprobe("nfsv4");
        for (size_t i = 0; i < v->n; i++) {
                r = mount_volume(&v->v[i], timeout_ms);
                if (r < 0)
                        return r;
        }
        return 0;
}
