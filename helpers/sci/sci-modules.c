/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sci-modules.h"
#include "sci-util.h"

#define VIRTIO_DEVICES "/sys/bus/virtio/devices"

static const struct {
        unsigned id;
        const char *module;
        const char *what;
} virtio_modules[] = {
        { SCI_VIRTIO_ID_NET, "virtio_net", "the network" },
        { SCI_VIRTIO_ID_BLOCK, "virtio_blk", "a disk" },
        { SCI_VIRTIO_ID_CONSOLE, "virtio_console", "the agent's virtio-serial port" },
        { SCI_VIRTIO_ID_VSOCK, "vmw_vsock_virtio_transport", "the agent's vsock" },
};

int sci_modprobe(const char *module) {
        static const char * const paths[] = { "/sbin/modprobe", "/usr/sbin/modprobe", "/bin/modprobe", "/usr/bin/modprobe" };
        const char *modprobe = NULL;
        sigset_t none;
        int status;
        pid_t pid;

        for (size_t i = 0; !modprobe && i < sizeof(paths) / sizeof(paths[0]); i++)
                if (access(paths[i], X_OK) == 0)
                        modprobe = paths[i];
        if (!modprobe)
                return -ENOENT;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* PID 1 blocks SIGCHLD; modprobe must not inherit that. */
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                execl(modprobe, "modprobe", "-q", "--", module, (char *) NULL);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int read_line(const char *dir, const char *name, char *buf, size_t size) {
        char p[PATH_MAX];
        ssize_t n;
        int fd;

        snprintf(p, sizeof(p), "%s/%s/%s", VIRTIO_DEVICES, dir, name);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

static bool has_driver(const char *dev) {
        char p[PATH_MAX];

        snprintf(p, sizeof(p), "%s/%s/driver", VIRTIO_DEVICES, dev);
        return access(p, F_OK) == 0;
}

static int device_id(const char *dev, unsigned *ret) {
        char buf[32];
        int r = read_line(dev, "device", buf, sizeof(buf));

        if (r < 0)
                return r;
        *ret = (unsigned) strtoul(buf, NULL, 0);
        return 0;
}

static void load_driver(const char *dev) {
        char alias[256];
        const char *module = NULL, *what = NULL;
        unsigned id;
        int r = -ENOENT;

        if (device_id(dev, &id) >= 0)
                for (size_t i = 0; i < sizeof(virtio_modules) / sizeof(virtio_modules[0]); i++)
                        if (virtio_modules[i].id == id) {
                                module = virtio_modules[i].module;
                                what = virtio_modules[i].what;
                        }
        if (read_line(dev, "modalias", alias, sizeof(alias)) >= 0)
                r = sci_modprobe(alias);
        /* An image without modules.alias still knows the module's name. */
        if ((r < 0 || !has_driver(dev)) && module)
                r = sci_modprobe(module);
        if (r == 0 && has_driver(dev)) {
                sci_dbg("loaded the driver of %s (%s)", dev, module ?: alias);
                return;
        }
        if (what)
                sci_log("%s (%s) has no driver and modprobe %s failed%s", what, dev, module,
                        r == -ENOENT ? ": the image has no modprobe" : "");
        else
                sci_dbg("no driver for %s", dev);
}

void sci_load_virtio_drivers(void) {
        DIR *d = opendir(VIRTIO_DEVICES);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                /* A module just loaded may have taken several devices. */
                if (de->d_name[0] != '.' && !has_driver(de->d_name))
                        load_driver(de->d_name);
        closedir(d);
}

bool sci_virtio_has_device(unsigned id) {
        DIR *d = opendir(VIRTIO_DEVICES);
        struct dirent *de;
        bool found = false;

        if (!d)
                return false;
        while (!found && (de = readdir(d))) {
                unsigned i;
                found = de->d_name[0] != '.' && device_id(de->d_name, &i) >= 0 && i == id;
        }
        closedir(d);
        return found;
}
