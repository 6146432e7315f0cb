/* SPDX-License-Identifier: MIT */
/* sci, "simple command init": PID 1 of a VM flake (sci(8)).
 *
 * Boot: basic mounts, the environment from the kernel command line, an
 * optional overlay root (overlay_root=DEV) and pivot into it. Then either the
 * agent (flake-agent-protocol(7)) serves sessions for firecracker-pilot, or,
 * in the original serial mode (run=COMMAND), the command runs on the
 * console. Finally the VM is powered off. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent-protocol.h"
#include "agent-server.h"
#include "compiler.h"
#include "sci-modules.h"
#include "sci-net.h"
#include "sci-util.h"
#include "sci-volume.h"

/* Exit status of sci when it is not PID 1 (the agent test mode). */
#define SCI_EXIT_FAILURE 1

static bool acpi_off = false;
/* ip=, nameserver=, rd.route= from the kernel command line. */
static SciNetConfig net = {};
/* nfs=, and what is wrong with it if it does not parse. */
static SciVolumes volumes = {};
static int volumes_error = 0;
static char volumes_problem[256];

static void set_from_cmdline(const char *key, const char *value, void *userdata) {
        static const char * const keys[] = {
                "run", "overlay_root", SCI_ARG_RESUME, SCI_ARG_FORCE_VSOCK, "sci_term",
                "sci_lines", "sci_columns", "PILOT_DEBUG", "sci_agent",
        };

        if (strcmp(key, "acpi") == 0 && value && strcmp(value, "off") == 0)
                acpi_off = true;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (strcmp(key, keys[i]) == 0)
                        (void) setenv(key, value ?: "1", 1);
        sci_net_cmdline_cb(key, value, &net);
        if (strcmp(key, NFS_VOLUME_BOOT_ARG) == 0)
                volumes_error = sci_volumes_parse(value ?: "", &volumes, volumes_problem, sizeof(volumes_problem));
}

static void import_cmdline(void) {
        char buf[8192];
        ssize_t n;
        int fd;

        fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return;
        buf[n] = 0;
        sci_cmdline_foreach(buf, set_from_cmdline, NULL);
}

static void mount_basic(const char *root) {
        static const struct { const char *what, *where, *type; unsigned long flags; const char *opts; } m[] = {
                { "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
                { "sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
                { "devtmpfs", "dev", "devtmpfs", MS_NOSUID, "mode=0755" },
                { "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=0666" },
                { "tmpfs", "run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
        };

        for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
                char p[PATH_MAX];

                snprintf(p, sizeof(p), "%s/%s", root, m[i].where);
                (void) mkdir(p, 0755);
                /* Already mounted (by an initramfs) is fine. */
                if (mount(m[i].what, p, m[i].type, m[i].flags, m[i].opts) < 0 && errno != EBUSY)
                        sci_dbg("mounting %s: %s", p, strerror(errno));
        }
}

/* Mounts, and if the kernel lacks the filesystem, loads its module (the
 * image's business: sci only asks modprobe) and tries once more. */
static int mount_fs(const char *what, const char *where, const char *type, const char *opts) {
        if (mount(what, where, type, 0, opts) == 0)
                return 0;
        if (errno != ENODEV)
                return -errno;
        if (sci_modprobe(type) < 0)
                return -ENODEV;
        return mount(what, where, type, 0, opts) < 0 ? -errno : 0;
}

static int setup_overlay_root(const char *dev) {
        static const char * const moved[] = { "proc", "sys", "dev", "run" };
        int r;

        (void) mkdir("/overlayroot", 0755);
        r = mount_fs(dev, "/overlayroot", "ext4", NULL);
        if (r < 0)
                r = mount_fs(dev, "/overlayroot", "ext2", NULL);
        if (r < 0) {
                sci_log("cannot mount the overlay device %s: %s", dev, strerror(-r));
                return r;
        }
        (void) mkdir("/overlayroot/rootfs", 0755);
        (void) mkdir("/overlayroot/rootfs_upper", 0755);
        (void) mkdir("/overlayroot/rootfs_work", 0755);
        r = mount_fs("overlay", "/overlayroot/rootfs", "overlay",
                     "lowerdir=/,upperdir=/overlayroot/rootfs_upper,workdir=/overlayroot/rootfs_work");
        if (r < 0) {
                sci_log("cannot mount the overlay root: %s", strerror(-r));
                return r;
        }
        for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
                char src[64], dst[128];

                snprintf(src, sizeof(src), "/%s", moved[i]);
                snprintf(dst, sizeof(dst), "/overlayroot/rootfs/%s", moved[i]);
                (void) mkdir(dst, 0755);
                if (mount(src, dst, NULL, MS_MOVE, NULL) < 0)
                        sci_dbg("moving %s: %s", src, strerror(errno));
        }
        if (chdir("/overlayroot/rootfs") < 0)
                return -errno;
        (void) mkdir("mnt", 0755);
        if (syscall(SYS_pivot_root, ".", "mnt") < 0) {
                r = -errno;
                sci_log("pivot_root into the overlay root failed: %s", strerror(-r));
                return r;
        }
        if (chroot(".") < 0 || chdir("/") < 0)
                return -errno;
        if (access("/run/systemd/resolve/resolv.conf", F_OK) == 0) {
                (void) unlink("/etc/resolv.conf");
                IGNORE_RESULT(symlink("/run/systemd/resolve/resolv.conf", "/etc/resolv.conf")); /* the image's own then */
        }
        sci_dbg("overlay root on %s", dev);
        return 0;
}

static void setup_term(void) {
        const char *t = getenv("sci_term");

        if (!getenv("TERM"))
                (void) setenv("TERM", t && *t ? t : "xterm", 1);
        (void) setenv("PS1", "\\[\\]\\u@\\h: > ", 0);
        (void) setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
        (void) setenv("HOME", "/root", 0);
}

/* The guest network (sci(8), NETWORK): the kernel's own ip= support
 * (CONFIG_IP_PNP) is missing from distribution kernels and there is no
 * dracut, so sci applies it. After the pivot, so that resolv.conf lands in
 * the root the app sees. Problems are logged; the app runs anyway. */
static void setup_network(const char *self) {
        /* udhcpc calls us back as its event script. */
        const char *script = self && self[0] == '/' && access(self, X_OK) == 0 ? self : "/usr/sbin/sci";

        (void) sci_net_apply(&net, script);
        (void) sci_net_write_resolv(&net);
}

/* The original protocol: run= is the command, the console its terminal. */
static int run_serial_compat(const char *run) {
        char **argv = sci_shell_split(run);
        sigset_t ss;
        int status = 0;
        pid_t pid;

        if (!argv) {
                sci_log("run=%s: not a command line", run);
                return -EINVAL;
        }
        if (isatty(STDIN_FILENO)) {
                const char *l = getenv("sci_lines"), *c = getenv("sci_columns");
                struct winsize ws = { .ws_row = l ? (unsigned short) atoi(l) : 24,
                                      .ws_col = c ? (unsigned short) atoi(c) : 80 };
                (void) ioctl(STDIN_FILENO, TIOCSWINSZ, &ws);
        }
        pid = fork();
        if (pid < 0) {
                sci_strv_free(argv);
                return -errno;
        }
        if (pid == 0) {
                sigemptyset(&ss);
                (void) sigprocmask(SIG_SETMASK, &ss, NULL);
                (void) setsid();
                (void) ioctl(STDIN_FILENO, TIOCSCTTY, 0);
                execvp(argv[0], argv);
                sci_log("%s: %s", argv[0], strerror(errno));
                _exit(127);
        }
        sci_strv_free(argv);
        /* As PID 1, reap everyone until our command is done. */
        for (;;) {
                pid_t p = waitpid(-1, &status, 0);
                if (p == pid)
                        break;
                if (p < 0 && errno != EINTR)
                        break;
        }
        sci_dbg("command finished, status %d", status);
        return 0;
}

/* The agent's virtio-serial port. The host announces ports once the
 * driver is up, which may be a moment after sci loaded it: with a
 * virtio console device present, wait for the port a little. */
static int find_serial_port(char **ret) {
        bool device = sci_virtio_has_device(SCI_VIRTIO_ID_CONSOLE);
        int r;

        for (unsigned waited = 0;; waited += 20) {
                r = agent_find_serial_port(AGENT_SERIAL_PORT_NAME, ret);
                if (r >= 0 || !device || waited >= 3000)
                        return r;
                usleep(20 * 1000);
        }
}

static int run_agent(bool resume) {
        AgentServerConfig c = { .resume = resume };
        const char *want = getenv("sci_agent");
        char *port = NULL;
        int r;

        if (!want || strcmp(want, "serial") == 0) {
                r = find_serial_port(&port);
                if (r >= 0) {
                        c.transport = AGENT_TRANSPORT_SERIAL;
                        c.path = port;
                } else if (want) {
                        sci_log("no virtio-serial port named %s", AGENT_SERIAL_PORT_NAME);
                        return r;
                }
        }
        if (!c.path) {
                c.transport = AGENT_TRANSPORT_VSOCK;
                (void) sci_modprobe("vmw_vsock_virtio_transport");
        }
        sci_dbg("agent on %s", c.path ?: "vsock port 52");
        r = agent_server_run(&c);
        if (r < 0)
                sci_log("agent failed: %s", strerror(-r));
        free(port);
        return r;
}

static _Noreturn void power_off(void) {
        sync();
        /* Firecracker has no ACPI (acpi=off) and ends the VM on a reset;
         * QEMU (-no-reboot) ends it on either. */
        if (!acpi_off)
                (void) reboot(RB_POWER_OFF);
        (void) reboot(RB_AUTOBOOT);
        for (;;)
                pause();
}

static int agent_test_mode(int argc, char *argv[]) {
        static const struct option opts[] = {
                { "agent-unix", required_argument, NULL, 'u' },
                { "resume", no_argument, NULL, 'r' },
                {}
        };
        AgentServerConfig c = { .transport = AGENT_TRANSPORT_UNIX };
        sigset_t ss;
        int o, r;

        while ((o = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (o) {
                case 'u':
                        c.path = optarg;
                        break;
                case 'r':
                        c.resume = true;
                        break;
                default:
                        return SCI_EXIT_FAILURE;
                }
        if (!c.path || optind < argc) {
                sci_log("usage: sci (as PID 1) | sci --agent-unix PATH [--resume]");
                return SCI_EXIT_FAILURE;
        }
        sci_debug = getenv("PILOT_DEBUG") != NULL;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &ss, NULL);
        r = agent_server_run(&c);
        if (r < 0) {
                sci_log("agent on %s failed: %s", c.path, strerror(-r));
                return SCI_EXIT_FAILURE;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        const char *run, *overlay;
        bool agent, resume;
        sigset_t ss;

        if (getpid() != 1) {
                if (argc == 2 && sci_net_is_udhcpc_event(argv[1]) && getenv("interface"))
                        return sci_net_udhcpc_event(argv[1]);
                return agent_test_mode(argc, argv);
        }

        mount_basic("");
        import_cmdline();
        sci_debug = getenv("PILOT_DEBUG") != NULL;
        /* Before anything uses a device: the initrd loaded only what
         * mounting the root needed. */
        sci_load_virtio_drivers();

        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &ss, NULL);

        overlay = getenv("overlay_root");
        if (overlay && *overlay && setup_overlay_root(overlay) < 0)
                power_off();
        setup_network(argv[0]);
        if (volumes_error < 0) {
                sci_log("nfs=: %s", volumes_error == -ENOMEM ? strerror(ENOMEM) : volumes_problem);
                power_off();
        }
        if (sci_volumes_mount(&volumes, SCI_VOLUME_MOUNT_TIMEOUT_MS) < 0)
                power_off();
        setup_term();

        run = getenv("run");
        resume = getenv(SCI_ARG_RESUME) != NULL;
        agent = resume || getenv(SCI_ARG_FORCE_VSOCK) || !run || strcmp(run, "vsock") == 0 || strcmp(run, "agent") == 0;

        if (agent)
                (void) run_agent(resume);
        else {
                (void) sigprocmask(SIG_UNBLOCK, &ss, NULL);
                (void) run_serial_compat(run);
        }
        power_off();
}
