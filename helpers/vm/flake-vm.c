/* SPDX-License-Identifier: MIT */
/* flake-vm: runs the VMM of one VM flake instance (flake-vm@.service(8)).
 *
 *   flake-vm run INSTANCE       prepare, boot, serve, clean up
 *   flake-vm cleanup INSTANCE   remove what a killed runner left behind
 *
 * Started as root (flake-vm@.service, or a root pilot without systemd), it
 * prepares what needs privileges (runtime dir, overlay, includes), hands
 * the runtime dir and the overlay to the VMM user (vm_user_resolve()) and
 * forks: the child becomes that user for good and runs the VMM and the
 * session relay; the parent stays root, waits, passes signals and
 * readiness on, and removes what the child cannot (flake-vm@.service(8),
 * "Privileges"). Started as another user it does all of it as that user.
 *
 * The console goes to stdout (the journal under systemd). Under QEMU the
 * runner owns the agent's virtio-serial port and multiplexes sessions from
 * agent.sock onto it; under Firecracker pilots talk to the hybrid vsock
 * socket directly. "ready" appears (and READY=1 is sent to systemd) once
 * the guest agent has answered. */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "agent-client.h"
#include "agent-protocol.h"
#include "compiler.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "network-config.h"
#include "spawn.h"
#include "strv.h"
#include "time-util.h"
#include "vm-bootargs.h"
#include "vm-config.h"
#include "vm-instance.h"
#include "vm-overlay.h"
#include "vm-runner.h"
#include "yaml-tree.h"

#define CLIENTS_MAX 64

/* The unprivileged runner's end of a pipe to its privileged parent, which
 * alone may talk to systemd (NotifyAccess=main); -EBADF when we are the
 * only process. */
static int supervisor_fd = -EBADF;

static void notify(const char *state) {
        if (supervisor_fd < 0)
                (void) sd_notify(false, state);
        else if (streq(state, "READY=1"))
                IGNORE_RESULT(write(supervisor_fd, "R", 1)); /* a gone supervisor stops us anyway */
        /* STOPPING=1: the parent says so when it passes the signal on. */
}

static void cleanup_instance(const VmInstance *i) {
        /* The runtime dir belongs to the VMM user: root takes it back
         * first, so that emptying it needs no CAP_DAC_OVERRIDE. One-shot
         * overlays live in it and go with it. */
        if (geteuid() == 0)
                IGNORE_RESULT(fchownat(AT_FDCWD, i->runtime_dir, 0, 0, AT_SYMLINK_NOFOLLOW)); /* rm_rf() says what it cannot remove */
        (void) rm_rf(i->runtime_dir);
}

static int check_images(const VmInstance *i) {
        const Flake *f = i->flake;
        const char *what[] = { "kernel", f->kernel_image_path, "rootfs", f->rootfs_image_path,
                               "initrd", f->initrd_path };

        for (size_t k = 0; k < ELEMENTSOF(what); k += 2)
                if (what[k + 1] && access(what[k + 1], R_OK) < 0)
                        return log_error_errno(errno, "%s: %s image %s: %m", i->name, what[k], what[k + 1]);
        return 0;
}

/* QEMU's accelerator: FLAKE_QEMU_ACCEL, else the flake's
 * vm.runtime.qemu_accel (both pin it), else KVM when /dev/kvm opens (with a
 * fallback to TCG when KVM cannot run the guest), else TCG. */
static int qemu_accel(const VmInstance *i, const char **ret, bool *ret_pinned) {
        const char *e = getenv("FLAKE_QEMU_ACCEL");
        YamlNode *n;

        if (e && *e) {
                *ret = e;
                *ret_pinned = true;
                return 0;
        }
        n = yaml_lookup(i->flake->doc->root, "vm.runtime.qemu_accel");
        if (n) {
                const char *v = NULL;

                if (yaml_node_get_string(n, &v) < 0 || (!streq(v, "kvm") && !streq(v, "tcg")))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: vm.runtime.qemu_accel must be 'kvm' or 'tcg'", i->name);
                *ret = v;
                *ret_pinned = true;
                return 0;
        }
        *ret = access("/dev/kvm", R_OK | W_OK) == 0 ? "kvm" : "tcg";
        *ret_pinned = false;
        return 0;
}

/* The instance's network, from vm.runtime.network: the TAP flake-tap@ made
 * for it and the guest's side as boot arguments (which replace any network
 * arguments of the configured boot_args). No settings, no network: no device
 * and no network boot arguments (a template's ip=dhcp would only make the
 * guest wait for a DHCP server it cannot reach). */
static int setup_network(const VmInstance *i, char ***args, char **ret_tap, char **ret_mac) {
        _cleanup_(network_config_freep) NetworkConfig *net = NULL;
        _cleanup_strv_free_ char **kept = NULL, **extra = NULL;
        _cleanup_free_ char *tap = NULL, *sys = NULL;
        int r;

        r = network_config_from_flake(i->flake, &net);
        if (r < 0)
                return r;       /* logged with file and line */

        STRV_FOREACH(a, *args)
                if (!network_boot_arg_is_network(*a))
                        strv_extend(&kept, *a);
        if (net) {
                r = network_tap_name(i->name, &tap);
                if (r < 0)
                        return r;
                sys = xasprintf("/sys/class/net/%s", tap);
                if (access(sys, F_OK) < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(ENODEV),
                                               "%s: its network device %s does not exist (start flake-tap@%s.service first)",
                                               i->name, tap, i->name);
                r = network_config_boot_args(net, tap, &extra);
                if (r < 0)
                        return r;
                strv_extend_strv(&kept, extra);
                *ret_mac = net->mac ? xstrdup(net->mac) : NULL;
        }
        strv_free(*args);
        *args = TAKE_PTR(kept);
        *ret_tap = TAKE_PTR(tap);
        return 0;
}

static char *firecracker_id(const char *name) {
        char *id = xstrndup(name, 64);

        for (char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
                        *p = '-';
        return id;
}

/* serial_argv: NULL for the agent; else the original serial protocol, with
 * run="<serial_argv>" and the console as the program's terminal. */
static int build_vmm_argv(const VmInstance *i, const char *binary, char * const *serial_argv, const char *accel,
                          char ***ret) {
        _cleanup_free_ char *cmdline = NULL, *tap = NULL, *mac = NULL, *json = NULL, *err = NULL;
        _cleanup_strv_free_ char **args = strv_copy(i->flake->boot_args);
        char *drop_qemu[] = { (char *) "acpi=off", NULL };
        VmBootArgs b = {
                .pilot_debug = getenv("PILOT_DEBUG") != NULL,
                .overlay = i->overlay_path != NULL,
                .agent = !serial_argv,
                .run_argv = serial_argv,
                .keep_console = true,
                /* Distribution kernels find QEMU microvm's virtio-mmio
                 * devices only through ACPI. */
                .drop = i->vmm == VMM_QEMU ? drop_qemu : NULL,
        };
        VmSpec s = {
                .kernel = i->flake->kernel_image_path,
                .initrd = i->flake->initrd_path,
                .rootfs = i->flake->rootfs_image_path,
                .overlay = i->overlay_path,
                .cache_type = i->flake->cache_type,
                .mem_size_mib = i->flake->mem_size_mib,
                .vcpu_count = i->flake->vcpu_count,
                .vsock_uds = i->vsock_socket,
                .serial_socket = serial_argv ? NULL : i->serial_socket,
                .qemu_accel = accel,
        };
        struct winsize ws;
        int r;

        r = setup_network(i, &args, &tap, &mac);
        if (r < 0)
                return r;
        s.tap = tap;
        s.mac = mac;

        if (serial_argv) {
                /* As the original: the caller's terminal, told at boot. */
                b.term = getenv("TERM");
                if (isatty(STDIN_FILENO) && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
                        b.rows = ws.ws_row;
                        b.cols = ws.ws_col;
                }
        }

        /* sci learns the mode from the command line. */
        vm_boot_args_add_mode(&args, !serial_argv && i->flake->resume, false);
        b.boot_args = args;
        cmdline = vm_boot_args_build(&b);
        if (!cmdline)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "%s: an argument contains '\"' or a newline, which a kernel command line cannot carry",
                                       i->name);
        if (i->vmm == VMM_QEMU && streq_ptr(accel, "tcg")) {
                /* Without it microvm boots hang at random under TCG. */
                char *t = xasprintf("%s tsc_early_khz=2400000", cmdline);
                free(cmdline);
                cmdline = t;
        }
        s.boot_args = cmdline;
        r = vm_spec_validate(&s, &err);
        if (r < 0)
                return log_error_errno(r, "%s: %s", i->name, err);

        if (i->vmm == VMM_QEMU) {
                *ret = vm_qemu_argv(&s, binary);
                return 0;
        }

        r = vm_firecracker_config(&s, &json);
        if (r < 0)
                return log_error_errno(r, "%s: cannot generate the Firecracker configuration: %m", i->name);
        r = write_file_atomic(i->config_path, json, strlen(json), 0600);
        if (r < 0)
                return log_error_errno(r, "%s: cannot write %s: %m", i->name, i->config_path);
        _cleanup_free_ char *id = firecracker_id(i->name);
        char **a = NULL;
        strv_extend(&a, binary);
        strv_extend(&a, "--no-api");
        strv_extend(&a, "--id");
        strv_extend(&a, id);
        strv_extend(&a, "--config-file");
        strv_extend(&a, i->config_path);
        *ret = a;
        return 0;
}

/* Like spawn_async() (which also clears the blocked signals, as here), but
 * with the VMM's stderr on err_fd, the pipe the runner reads it from, which
 * spawn.c has no flag for (ours if negative), and SIGPIPE back to its
 * default. stdin is /dev/null unless keep_stdin (then the child also stays
 * in our process group), stdout ours. */
static int spawn_vmm(char **argv, bool keep_stdin, int err_fd, pid_t *ret) {
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                sigset_t none;
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) signal(SIGPIPE, SIG_DFL);
                if (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0)
                        _exit(127);
                if (!keep_stdin) {
                        if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
                                _exit(127);
                        /* Its own process group: a Ctrl-C meant for a
                         * foreground runner is the runner's business. */
                        (void) setpgid(0, 0);
                }
                execvp(argv[0], argv);
                _exit(127);
        }
        *ret = pid;
        return 0;
}

typedef struct Client {
        int fd;
        uint32_t session;          /* on the shared port */
        uint32_t peer_session;     /* what the pilot calls it */
        bool greeted;
        AgentDecoder dec;
} Client;

typedef struct Runner {
        VmInstance *inst;
        pid_t vmm;
        int vmm_status;
        bool vmm_exited;
        int signal_fd;
        int serial_fd;
        int listen_fd;
        int vmm_err_fd;              /* the VMM's stderr, passed on to ours */
        char vmm_err_tail[1024];     /* its last bytes, for the error line */
        size_t vmm_err_len;
        AgentDecoder serial_dec;
        Client *clients[CLIENTS_MAX];
        uint32_t next_session;
        bool stopping;
} Runner;

/* Passes what the VMM wrote to its stderr on to ours (the journal or the
 * log file) and keeps the tail: when the VMM dies during boot, its last
 * lines are the reason. */
static void runner_drain_vmm_err(Runner *r) {
        char buf[4096];
        ssize_t n;

        while (r->vmm_err_fd >= 0) {
                n = read(r->vmm_err_fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        close(r->vmm_err_fd);
                        r->vmm_err_fd = -EBADF;
                        return;
                }
                for (ssize_t w = 0, k; w < n; w += k) {
                        k = write(STDERR_FILENO, buf + w, (size_t) (n - w));
                        if (k <= 0)
                                break;  /* our stderr is gone: only the tail matters now */
                }
                if ((size_t) n >= sizeof(r->vmm_err_tail)) {
                        memcpy(r->vmm_err_tail, buf + n - sizeof(r->vmm_err_tail), sizeof(r->vmm_err_tail));
                        r->vmm_err_len = sizeof(r->vmm_err_tail);
                        continue;
                }
                if (r->vmm_err_len + (size_t) n > sizeof(r->vmm_err_tail)) {
                        size_t drop = r->vmm_err_len + (size_t) n - sizeof(r->vmm_err_tail);
                        memmove(r->vmm_err_tail, r->vmm_err_tail + drop, r->vmm_err_len - drop);
                        r->vmm_err_len -= drop;
                }
                memcpy(r->vmm_err_tail + r->vmm_err_len, buf, (size_t) n);
                r->vmm_err_len += (size_t) n;
        }
}

/* The VMM's last (at most max) non-empty stderr lines, joined by " | " for
 * a one-line message, or NULL. */
static char *vmm_err_lines(Runner *r, unsigned max) {
        _cleanup_strv_free_ char **lines = NULL;
        _cleanup_free_ char *t = NULL;
        size_t n;

        runner_drain_vmm_err(r);
        if (r->vmm_err_len == 0)
                return NULL;
        t = xstrndup(r->vmm_err_tail, r->vmm_err_len);
        for (char *p = t, *e; p; p = e ? e + 1 : NULL) {
                e = strchr(p, '\n');
                if (e)
                        *e = 0;
                if (*p)
                        strv_extend(&lines, p);
        }
        n = strv_length(lines);
        if (n == 0)
                return NULL;
        return strv_join(lines + (n > max ? n - max : 0), " | ");
}

static char *vmm_status_string(int status) {
        if (WIFEXITED(status))
                return xasprintf("exit status %d", WEXITSTATUS(status));
        return xasprintf("exit status %d, killed by SIG%s", 128 + WTERMSIG(status),
                         sigabbrev_np(WTERMSIG(status)) ?: "?");
}

static void runner_check_signals(Runner *r) {
        struct signalfd_siginfo si;

        runner_drain_vmm_err(r);
        while (read(r->signal_fd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGCHLD) {
                        int status;
                        pid_t p;
                        while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                                if (p == r->vmm) {
                                        r->vmm_exited = true;
                                        r->vmm_status = status;
                                }
                } else if (!r->stopping) {
                        log_info("%s: stopping the VM (signal %d)", r->inst->name, (int) si.ssi_signo);
                        r->stopping = true;
                        if (!r->vmm_exited)
                                (void) kill(r->vmm, SIGTERM);
                }
        }
}

static int connect_unix_retry(const char *path, Runner *r, uint64_t deadline) {
        for (;;) {
                int fd = agent_connect_unix(path);
                if (fd >= 0)
                        return fd;
                runner_check_signals(r);
                if (r->vmm_exited || r->stopping)
                        return -ECHILD;
                if (now_ms() > deadline)
                        return -ETIMEDOUT;
                usleep(20 * 1000);
        }
}

/* The agent's port failed under us (QEMU closes it as it exits): if the
 * VMM is on its way out, that is the failure to report. */
static int vmm_exit_or(Runner *r, int k) {
        uint64_t until = now_ms() + 2000;

        while (!r->vmm_exited && now_ms() < until) {
                runner_check_signals(r);
                if (!r->vmm_exited)
                        usleep(20 * 1000);
        }
        return r->vmm_exited ? -ECHILD : k;
}

/* Waits for the guest agent's HELLO: QEMU through the serial port (kept
 * open: it is ours), Firecracker through a probe connection. */
static int wait_for_agent(Runner *r) {
        uint64_t deadline = now_ms() + vm_agent_timeout_sec() * 1000ULL;
        int k;

        if (r->inst->vmm == VMM_QEMU) {
                k = connect_unix_retry(r->inst->serial_socket, r, deadline);
                if (k < 0)
                        return k;
                r->serial_fd = k;
                for (;;) {
                        k = agent_client_handshake(r->serial_fd, 200);
                        if (k >= 0)
                                return 0;
                        if (k != -ETIMEDOUT)
                                return vmm_exit_or(r, k);
                        runner_check_signals(r);
                        if (r->vmm_exited || r->stopping)
                                return -ECHILD;
                        if (now_ms() > deadline)
                                return -ETIMEDOUT;
                }
        }

        for (;;) {
                int fd = agent_connect_vsock_uds(r->inst->vsock_socket, AGENT_VSOCK_PORT, 1000);
                if (fd >= 0) {
                        k = agent_client_handshake(fd, 1000);
                        close(fd);
                        if (k >= 0)
                                return 0;
                        if (k == -EPROTO || k == -EPROTONOSUPPORT)
                                return k;
                }
                runner_check_signals(r);
                if (r->vmm_exited || r->stopping)
                        return -ECHILD;
                if (now_ms() > deadline)
                        return -ETIMEDOUT;
                usleep(100 * 1000);
        }
}

static int listen_unix(const char *path) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;

        if (strlen(path) >= sizeof(a.sun_path))
                return -ENAMETOOLONG;
        strcpy(a.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(fd, 32) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static void client_close(Runner *r, Client *c, bool tell_guest) {
        if (tell_guest && r->serial_fd >= 0)
                /* The caller is gone: hang up on its program. */
                (void) agent_send_signal(r->serial_fd, c->session, SIGHUP);
        for (size_t k = 0; k < CLIENTS_MAX; k++)
                if (r->clients[k] == c)
                        r->clients[k] = NULL;
        close(c->fd);
        free(c);
}

static void client_accept(Runner *r) {
        int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        Client *c;

        if (fd < 0)
                return;
        for (size_t k = 0; k < CLIENTS_MAX; k++) {
                if (r->clients[k])
                        continue;
                c = xmalloc(sizeof(*c));
                *c = (Client) { .fd = fd, .session = ++r->next_session };
                if (r->next_session == 0)
                        c->session = r->next_session = 1;
                agent_decoder_init(&c->dec);
                r->clients[k] = c;
                (void) agent_send_hello(fd);
                return;
        }
        close(fd);
}

static void client_read(Runner *r, Client *c) {
        uint8_t *p;
        size_t space;
        AgentFrame f;
        ssize_t n;
        int k;

        agent_decoder_space(&c->dec, &p, &space);
        n = read(c->fd, p, space);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                client_close(r, c, true);
                return;
        }
        agent_decoder_advance(&c->dec, (size_t) n);
        while ((k = agent_decoder_next(&c->dec, &f)) > 0) {
                if (f.type == AGENT_HELLO) {
                        c->greeted = true;
                        continue;
                }
                /* The pilot's session id is its own business; on the shared
                 * port the session is the one we assigned. */
                c->peer_session = f.session;
                if (agent_write_frame(r->serial_fd, f.type, c->session, f.payload, f.length) < 0)
                        log_debug("%s: writing to the agent port failed", r->inst->name);
        }
        if (k < 0) {
                log_debug("%s: dropping a pilot connection that sent garbage", r->inst->name);
                client_close(r, c, true);
        }
}

static int serial_read(Runner *r) {
        uint8_t *p;
        size_t space;
        AgentFrame f;
        ssize_t n;
        int k;

        agent_decoder_space(&r->serial_dec, &p, &space);
        n = read(r->serial_fd, p, space);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0)
                return -ECONNRESET;
        agent_decoder_advance(&r->serial_dec, (size_t) n);
        while ((k = agent_decoder_next(&r->serial_dec, &f)) > 0) {
                Client *c = NULL;

                for (size_t j = 0; j < CLIENTS_MAX; j++)
                        if (r->clients[j] && r->clients[j]->session == f.session)
                                c = r->clients[j];
                if (!c)
                        continue;
                if (agent_write_frame(c->fd, f.type, c->peer_session, f.payload, f.length) < 0 ||
                    f.type == AGENT_EXIT || f.type == AGENT_ERROR)
                        client_close(r, c, false);
        }
        return k < 0 ? k : 0;
}

static void runner_loop(Runner *r) {
        while (!r->vmm_exited) {
                struct pollfd pfd[4 + CLIENTS_MAX];
                Client *owner[4 + CLIENTS_MAX] = {};
                size_t n = 0;

                pfd[n++] = (struct pollfd) { .fd = r->signal_fd, .events = POLLIN };
                if (r->vmm_err_fd >= 0)
                        pfd[n++] = (struct pollfd) { .fd = r->vmm_err_fd, .events = POLLIN };
                if (r->serial_fd >= 0)
                        pfd[n++] = (struct pollfd) { .fd = r->serial_fd, .events = POLLIN };
                if (r->listen_fd >= 0 && !r->stopping)
                        pfd[n++] = (struct pollfd) { .fd = r->listen_fd, .events = POLLIN };
                for (size_t k = 0; k < CLIENTS_MAX; k++)
                        if (r->clients[k]) {
                                owner[n] = r->clients[k];
                                pfd[n++] = (struct pollfd) { .fd = r->clients[k]->fd, .events = POLLIN };
                        }

                if (poll(pfd, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                for (size_t k = 0; k < n; k++) {
                        if (!pfd[k].revents)
                                continue;
                        if (pfd[k].fd == r->signal_fd)
                                runner_check_signals(r);
                        else if (pfd[k].fd == r->vmm_err_fd)
                                runner_drain_vmm_err(r);
                        else if (pfd[k].fd == r->serial_fd) {
                                if (serial_read(r) < 0) {
                                        /* QEMU closed the port: it is
                                         * exiting; SIGCHLD follows. */
                                        close(r->serial_fd);
                                        r->serial_fd = -1;
                                }
                        } else if (pfd[k].fd == r->listen_fd)
                                client_accept(r);
                        else if (owner[k]) {
                                bool alive = false;
                                for (size_t j = 0; j < CLIENTS_MAX; j++)
                                        alive = alive || r->clients[j] == owner[k];
                                if (alive)
                                        client_read(r, owner[k]);
                        }
                }
        }
}

static void stop_vmm(Runner *r) {
        uint64_t deadline = now_ms() + 5000;

        if (r->vmm <= 0 || r->vmm_exited)
                return;
        (void) kill(r->vmm, SIGTERM);
        while (!r->vmm_exited && now_ms() < deadline) {
                usleep(20 * 1000);
                runner_check_signals(r);
        }
        if (!r->vmm_exited) {
                (void) kill(r->vmm, SIGKILL);
                (void) waitpid(r->vmm, &r->vmm_status, 0);
                r->vmm_exited = true;
        }
}

static int safe_close_fd(int fd) {
        if (fd >= 0)
                close(fd);
        return -EBADF;
}

/* Builds the VMM's command line (for accel, under QEMU) and starts it with
 * its stderr through us. EXIT_SUCCESS, or our exit status (logged). */
static int start_vmm(Runner *r, const char *binary, char * const *serial_argv, const char *accel) {
        const VmInstance *i = r->inst;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *pid = NULL;
        int fds[2] = { -EBADF, -EBADF };
        int k;

        k = build_vmm_argv(i, binary, serial_argv, accel, &argv);
        if (k < 0)
                /* -ENODEV only from setup_network(): flake-tap@ not started. */
                return k == -ENODEV ? RUNNER_EXIT_NO_NETWORK : RUNNER_EXIT_CONFIG;
        assert(argv);

        /* The VMM gets our stdout: the console, to the journal. */
        if (log_get_max_level() >= LOG_DEBUG) {
                _cleanup_free_ char *j = strv_join(argv, " ");
                log_debug("%s: %s", i->name, j);
        }
        /* In serial mode the caller's terminal gets all of it. */
        if (!serial_argv && pipe2(fds, O_CLOEXEC) < 0) {
                log_error_errno(errno, "%s: cannot create a pipe: %m", i->name);
                return EXIT_FAILURE;
        }
        k = spawn_vmm(argv, serial_argv != NULL, fds[1], &r->vmm);
        (void) safe_close_fd(fds[1]);
        if (k < 0) {
                (void) safe_close_fd(fds[0]);
                log_error_errno(k, "%s: cannot start %s: %m", i->name, binary);
                return RUNNER_EXIT_VMM_FAILED;
        }
        if (fds[0] >= 0)
                (void) fcntl(fds[0], F_SETFL, O_NONBLOCK);
        r->vmm_err_fd = fds[0];
        r->vmm_err_len = 0;
        r->vmm_exited = false;
        pid = xasprintf("%d\n", (int) r->vmm);
        (void) write_file_atomic(i->pid_path, pid, strlen(pid), 0644);
        if (i->vmm == VMM_QEMU)
                log_info("%s: started qemu, accelerator %s (pid %d)", i->name, accel, (int) r->vmm);
        else
                log_info("%s: started %s (pid %d)", i->name, vmm_kind_to_string(i->vmm), (int) r->vmm);
        return EXIT_SUCCESS;
}

/* What the VMM writes and opens read-write goes to its user: the runtime
 * dir (sockets, pid files, Firecracker's config) and the overlay. */
static int give_to_user(const VmInstance *i, const VmUser *u) {
        const char *paths[] = { i->runtime_dir, i->overlay_path };

        for (size_t k = 0; k < ELEMENTSOF(paths); k++) {
                _cleanup_close_ int fd = -EBADF;

                if (!paths[k])
                        continue;
                fd = open(paths[k], O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                /* The overlay is the guest's data: its user's alone. */
                if (fd < 0 || fchown(fd, u->uid, u->gid) < 0 || (k > 0 && fchmod(fd, 0600) < 0))
                        return log_error_errno(negative_errno(), "%s: cannot give %s to the VMM user %s: %m", i->name,
                                               paths[k], u->name);
        }
        return 0;
}

/* The user's groups, and kvm: /dev/kvm is what a VMM is for (the unit's
 * device list holds nothing else of note), and a runas user outside the
 * group would get a VM under TCG, many times slower, without a word. */
static int set_groups(const VmUser *u) {
        gid_t groups[NGROUPS_MAX + 1];
        struct group *kvm;
        int n;

        if (initgroups(u->name, u->gid) < 0)
                return -errno;
        kvm = getgrnam("kvm");
        if (!kvm)
                return 0;
        n = getgroups(NGROUPS_MAX, groups);
        if (n < 0)
                return -errno;
        for (int k = 0; k < n; k++)
                if (groups[k] == kvm->gr_gid)
                        return 0;
        groups[n++] = kvm->gr_gid;
        return setgroups((size_t) n, groups) < 0 ? -errno : 0;
}

/* For good: all ids, the groups above, no way back to any capability. */
static int become_user(const VmInstance *i, const VmUser *u) {
        int r = set_groups(u);

        if (r < 0)
                return log_error_errno(r, "%s: cannot set the groups of the VMM user %s: %m", i->name, u->name);
        if (setresgid(u->gid, u->gid, u->gid) < 0 || setresuid(u->uid, u->uid, u->uid) < 0)
                return log_error_errno(negative_errno(), "%s: cannot become the VMM user %s: %m", i->name, u->name);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return log_error_errno(negative_errno(), "%s: cannot set no_new_privs: %m", i->name);
        if (setresuid(0, 0, 0) == 0)
                return log_error_errno(SYNTHETIC_ERRNO(-EPERM), "%s: still root after becoming %s", i->name, u->name);
        return 0;
}

/* What the supervisor keeps: CAP_KILL to pass signals on to the runner (another
 * user), CAP_CHOWN to take the runtime dir back; the rest goes. (No libcap
 * for two bits; with no_new_privs nothing comes back.) */
static int keep_supervisor_caps(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {};

        d[0].effective = d[0].permitted = (1U << CAP_KILL) | (1U << CAP_CHOWN);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_capset, &h, d) < 0)
                return -errno;
        return 0;
}

/* The privileged parent: passes stop signals to the runner and its
 * readiness to systemd, and returns the runner's exit status. */
static int supervise(const VmInstance *i, pid_t child, int signal_fd, int ready_fd) {
        bool stopping = false;
        int status = 0;

        for (;;) {
                struct pollfd p[2] = { { .fd = signal_fd, .events = POLLIN }, { .fd = ready_fd, .events = POLLIN } };
                struct signalfd_siginfo si;
                char c;

                if (poll(p, ready_fd >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        (void) kill(child, SIGKILL);
                }
                if (ready_fd >= 0 && p[1].revents) {
                        if (read(ready_fd, &c, 1) == 1)
                                (void) sd_notify(false, "READY=1");
                        else
                                ready_fd = safe_close_fd(ready_fd);
                }
                while (read(signal_fd, &si, sizeof(si)) == sizeof(si)) {
                        if (si.ssi_signo != SIGCHLD) {
                                if (!stopping)
                                        (void) sd_notify(false, "STOPPING=1");
                                stopping = true;
                                /* (CAP_KILL: the child is another user.) */
                                if (kill(child, (int) si.ssi_signo) < 0)
                                        log_warning_errno(-errno, "%s: cannot pass SIG%s on to the runner: %m",
                                                          i->name, sigabbrev_np((int) si.ssi_signo) ?: "?");
                        }
                }
                if (waitpid(child, &status, WNOHANG) == child)
                        break;
        }
        (void) safe_close_fd(ready_fd);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        log_error("%s: the runner was killed by SIG%s", i->name, sigabbrev_np(WTERMSIG(status)) ?: "?");
        return EXIT_FAILURE;
}

/* Root's way in: hands the prepared instance to the VMM user and forks.
 * Returns 0 in the child, now that user; in the parent, 1 with the
 * runner's exit status in *ret_status; or our exit status < 0 negated. */
static int split_privileges(const VmInstance *i, const VmUser *u, int signal_fd, int *ret_status) {
        int fds[2], k;
        pid_t pid;

        if (give_to_user(i, u) < 0)
                return -EXIT_FAILURE;
        if (pipe2(fds, O_CLOEXEC) < 0) {
                log_error_errno(-errno, "%s: cannot create a pipe: %m", i->name);
                return -EXIT_FAILURE;
        }
        pid = fork();
        if (pid < 0) {
                log_error_errno(-errno, "%s: fork: %m", i->name);
                close(fds[0]);
                close(fds[1]);
                return -EXIT_FAILURE;
        }
        if (pid == 0) {
                close(fds[0]);
                supervisor_fd = fds[1];
                /* Readiness goes through the parent; nothing below (nor the
                 * VMM) talks to systemd. */
                (void) unsetenv("NOTIFY_SOCKET");
                if (become_user(i, u) < 0)
                        _exit(EXIT_FAILURE);
                /* Our images must be readable by the VMM, not by root. */
                if (check_images(i) < 0)
                        _exit(RUNNER_EXIT_CONFIG);
                return 0;
        }
        close(fds[1]);
        k = keep_supervisor_caps();
        if (k < 0)
                log_warning_errno(k, "%s: cannot drop the supervisor's capabilities: %m", i->name);
        log_info("%s: the VMM runs as user %s (runner %d)", i->name, u->name, (int) pid);
        *ret_status = supervise(i, pid, signal_fd, fds[0]);
        return 1;
}

static int verb_run(const char *name, char * const *serial_argv) {
        _cleanup_(vm_instance_freep) VmInstance *i = NULL;
        _cleanup_free_ char *binary = NULL, *pid = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        Runner r = { .serial_fd = -1, .listen_fd = -1, .signal_fd = -1, .vmm_err_fd = -EBADF };
        _cleanup_(vm_user_done) VmUser user = {};
        const char *accel = NULL;
        bool accel_pinned = false, privileged = geteuid() == 0;
        sigset_t mask;
        int k, ret = EXIT_SUCCESS;

        k = vm_instance_load(name, &i);
        if (k < 0)
                return RUNNER_EXIT_CONFIG;
        r.inst = i;
        log_set_context(i->app, "firecracker", i->name);

        if (check_images(i) < 0)
                return RUNNER_EXIT_CONFIG;
        if (vm_instance_vmm_binary(i, &binary) < 0)
                return RUNNER_EXIT_NO_VMM;
        if (privileged) {
                k = vm_user_resolve(i->flake->runas, &user);
                if (k == -EPERM) {
                        log_error("%s: the VMM user '%s' is root: a VMM never runs as root", name,
                                  vm_user_name(i->flake->runas));
                        return RUNNER_EXIT_CONFIG;
                }
                if (k < 0) {
                        log_error_errno(k, "%s: the VMM user '%s' does not exist (vm.runtime.runas, or for root "
                                           "the system user " VM_SYSTEM_USER " from sysusers.d): %m",
                                        name, vm_user_name(i->flake->runas));
                        return RUNNER_EXIT_CONFIG;
                }
        }

        k = mkdir_parents(i->runtime_dir, 0755);
        if (k < 0) {
                log_error_errno(k, "%s: cannot create the runtime directory: %m", name);
                return EXIT_FAILURE;
        }
        lock_fd = lock_file_at(AT_FDCWD, i->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW, LOCK_EX | LOCK_NB);
        if (lock_fd < 0) {
                log_error("%s: the VM is already running", name);
                return EXIT_FAILURE;
        }
        /* Whatever a crashed runner left is stale now. */
        cleanup_instance(i);
        if (mkdir(i->runtime_dir, 0700) < 0) {
                log_error_errno(errno, "%s: cannot create %s: %m", name, i->runtime_dir);
                return EXIT_FAILURE;
        }

        pid = xasprintf("%d\n", (int) getpid());
        (void) write_file_atomic(i->runner_pid_path, pid, strlen(pid), 0644);
        free(TAKE_PTR(pid));

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        r.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        (void) signal(SIGPIPE, SIG_IGN);

        if (vm_overlay_prepare(i) < 0) {
                ret = RUNNER_EXIT_CONFIG;
                goto out;
        }
        if (privileged) {
                int status = EXIT_FAILURE;

                k = split_privileges(i, &user, r.signal_fd, &status);
                if (k < 0) {
                        ret = -k;
                        goto out;
                }
                if (k > 0) {
                        /* The runner, as the VMM user, emptied the runtime
                         * dir as far as it could. */
                        cleanup_instance(i);
                        (void) unlink(i->lock_path);
                        return status;
                }
        }
        /* As the VMM user: /dev/kvm must open for it. */
        if (i->vmm == VMM_QEMU && qemu_accel(i, &accel, &accel_pinned) < 0) {
                ret = RUNNER_EXIT_CONFIG;
                goto out;
        }
        ret = start_vmm(&r, binary, serial_argv, accel);
        if (ret != EXIT_SUCCESS)
                goto out;

        if (serial_argv) {
                /* The original protocol: the VMM is the program's terminal
                 * and its exit status is ours. */
                runner_loop(&r);
                if (r.vmm_exited)
                        ret = WIFEXITED(r.vmm_status) ? WEXITSTATUS(r.vmm_status) : 128 + WTERMSIG(r.vmm_status);
                goto out;
        }

        k = wait_for_agent(&r);
        if (k == -ECHILD && !r.stopping && i->vmm == VMM_QEMU && !accel_pinned && streq(accel, "kvm") &&
            !(WIFEXITED(r.vmm_status) && WEXITSTATUS(r.vmm_status) == 0)) {
                /* /dev/kvm opened, yet QEMU died before the guest answered
                 * (nested or para-virtualized KVM): QEMU's own fallback
                 * (-accel kvm -accel tcg) only covers a KVM that fails to
                 * initialize, and a TCG boot needs tsc_early_khz=. Boot
                 * again under TCG, and say so once: it is much slower. */
                _cleanup_free_ char *st = vmm_status_string(r.vmm_status), *why = vmm_err_lines(&r, 2), *w = NULL,
                                    *wpath = path_join(i->runtime_dir, VM_WARNING_FILE);

                w = xasprintf("%s: KVM cannot run the guest (qemu %s%s%s), falling back to TCG (software emulation, "
                              "much slower; FLAKE_QEMU_ACCEL or vm.runtime.qemu_accel pin an accelerator)",
                              name, st, why ? ": " : "", strempty(why));
                log_warning("%s", w);
                (void) write_file_atomic(wpath, w, strlen(w), 0644);
                r.serial_fd = safe_close_fd(r.serial_fd);
                r.vmm_err_fd = safe_close_fd(r.vmm_err_fd);
                accel = "tcg";
                ret = start_vmm(&r, binary, NULL, accel);
                if (ret != EXIT_SUCCESS)
                        goto out;
                k = wait_for_agent(&r);
        }
        if (k < 0) {
                if (r.stopping)
                        goto out;
                if (k == -ETIMEDOUT) {
                        log_error("%s: the guest agent did not answer within %u s (does the image run sci as init?)",
                                  name, vm_agent_timeout_sec());
                        ret = RUNNER_EXIT_NO_AGENT;
                } else if (k == -ECHILD) {
                        _cleanup_free_ char *st = vmm_status_string(r.vmm_status), *why = vmm_err_lines(&r, 3),
                                            *what = i->vmm == VMM_QEMU ? xasprintf("qemu (accelerator %s)", accel)
                                                                       : xstrdup(vmm_kind_to_string(i->vmm));
                        log_error("%s: %s failed before the guest agent answered (%s)%s%s", name, what, st,
                                  why ? ": " : "", strempty(why));
                        ret = RUNNER_EXIT_VMM_FAILED;
                } else {
                        log_error_errno(k, "%s: the guest does not speak the agent protocol: %m", name);
                        ret = RUNNER_EXIT_NO_AGENT;
                }
                goto out;
        }

        if (i->vmm == VMM_QEMU) {
                r.listen_fd = listen_unix(i->agent_socket);
                if (r.listen_fd < 0) {
                        log_error_errno(r.listen_fd, "%s: cannot listen on %s: %m", name, i->agent_socket);
                        ret = EXIT_FAILURE;
                        goto out;
                }
        }
        (void) write_file_atomic(i->ready_path, "", 0, 0644);
        notify("READY=1");
        log_info("%s: the guest agent is ready", name);

        runner_loop(&r);
        if (r.vmm_exited && !r.stopping) {
                bool clean = WIFEXITED(r.vmm_status) && WEXITSTATUS(r.vmm_status) == 0;
                if (clean)
                        log_info("%s: the VM powered off", name);
                else {
                        log_error("%s: %s ended with status %d", name, vmm_kind_to_string(i->vmm),
                                  WIFEXITED(r.vmm_status) ? WEXITSTATUS(r.vmm_status) : 128 + WTERMSIG(r.vmm_status));
                        ret = RUNNER_EXIT_VMM_FAILED;
                }
        }
out:
        notify("STOPPING=1");
        stop_vmm(&r);
        for (size_t k2 = 0; k2 < CLIENTS_MAX; k2++)
                if (r.clients[k2])
                        client_close(&r, r.clients[k2], false);
        if (r.serial_fd >= 0)
                close(r.serial_fd);
        if (r.listen_fd >= 0)
                close(r.listen_fd);
        if (r.signal_fd >= 0)
                close(r.signal_fd);
        runner_drain_vmm_err(&r);
        (void) safe_close_fd(r.vmm_err_fd);
        cleanup_instance(i);
        (void) unlink(i->lock_path);
        return ret;
}

static int verb_cleanup(const char *name) {
        _cleanup_(vm_instance_freep) VmInstance *i = NULL;
        _cleanup_close_ int lock_fd = -EBADF;

        if (vm_instance_load(name, &i) < 0)
                return RUNNER_EXIT_CONFIG;
        lock_fd = lock_file_at(AT_FDCWD, i->lock_path, O_RDWR | O_NOFOLLOW, LOCK_EX | LOCK_NB);
        if (lock_fd == -EWOULDBLOCK) {
                log_error("%s: the VM is still running", name);
                return EXIT_FAILURE;
        }
        cleanup_instance(i);
        (void) unlink(i->lock_path);
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        log_setup("flake-vm", log_stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR);

        if (argc >= 4 && streq(argv[1], "serial")) {
                /* The caller's terminal is the guest console: only
                 * problems are ours to print. */
                if (!getenv("PILOT_DEBUG"))
                        log_set_max_level(LOG_WARNING);
                return verb_run(argv[2], argv + 3);
        }
        if (argc != 3 || (!streq(argv[1], "run") && !streq(argv[1], "cleanup"))) {
                fprintf(stderr, "usage: flake-vm run|cleanup INSTANCE | flake-vm serial INSTANCE PROGRAM [ARG...]\n");
                return RUNNER_EXIT_CONFIG;
        }
        if (streq(argv[1], "run"))
                return verb_run(argv[2], NULL);
        return verb_cleanup(argv[2]);
}
