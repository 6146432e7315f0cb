/* SPDX-License-Identifier: MIT */
/* flake-vm: runs the VMM of one VM flake instance (flake-vm@.service(8)).
 *
 *   flake-vm run INSTANCE       prepare, boot, serve, clean up
 *   flake-vm cleanup INSTANCE   remove what a killed runner left behind
 *   flake-vm snapshot INSTANCE  boot, save the snapshot (vm-snapshot.h), stop
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
#include "vm-snapshot.h"
#include "vm-volumes.h"
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
 * for it, or QEMU's user-mode network (*ret_user_net), and the guest's side
 * as boot arguments (which replace any network arguments of the configured
 * boot_args). No settings, no network: no device and no network boot
 * arguments (a template's ip=dhcp would only make the guest wait for a DHCP
 * server it cannot reach). */
static int setup_network(const VmInstance *i, char ***args, char **ret_tap, char **ret_mac, bool *ret_user_net) {
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
        *ret_user_net = net && !network_config_needs_tap(net);
        if (*ret_user_net && i->vmm != VMM_QEMU)
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                       "%s: vm.runtime.network mode user is QEMU's user-mode network, which %s does not have "
                                       "(set vm.runtime.vmm: qemu, or use a nat network)",
                                       i->name, vmm_kind_to_string(i->vmm));
        if (network_config_needs_tap(net)) {
                r = network_tap_name(i->name, &tap);
                if (r < 0)
                        return r;
                sys = xasprintf("/sys/class/net/%s", tap);
                if (access(sys, F_OK) < 0) {
                        if (i->user)    /* flake-tap@ reads the system's flakes only */
                                return log_error_errno(SYNTHETIC_ERRNO(ENODEV),
                                                       "%s: its network device %s does not exist, and flake-tap@ makes them for "
                                                       "the system's flakes only (a user's VM flake can use QEMU's user-mode "
                                                       "network: 'flake-ctl firecracker --user network add --mode user')",
                                                       i->name, tap);
                        return log_error_errno(SYNTHETIC_ERRNO(ENODEV),
                                               "%s: its network device %s does not exist (start flake-tap@%s.service first)",
                                               i->name, tap, i->name);
                }
        }
        if (net) {
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
        _cleanup_strv_free_ char **args = NULL;
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
                /* The monitor saves the snapshot (vm-snapshot.h). */
                .qmp_socket = !serial_argv && vm_snapshot_wanted(i) ? i->control_socket : NULL,
        };
        struct winsize ws;
        bool user_net = false;
        int r;

        /* Checked by check_instance(). */
        r = vm_instance_boot_args(i->flake, i->name, &args, &err);
        if (r < 0)
                return log_error_errno(r, "%s", err);
        r = setup_network(i, &args, &tap, &mac, &user_net);
        if (r < 0)
                return r;
        s.tap = tap;
        s.user_net = user_net ? NETWORK_USER_NETDEV : NULL;
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
        /* The API only for snapshots (vm-snapshot.h). */
        if (!serial_argv && vm_snapshot_wanted(i)) {
                strv_extend(&a, "--api-sock");
                strv_extend(&a, i->control_socket);
        } else
                strv_extend(&a, "--no-api");
        strv_extend(&a, "--id");
        strv_extend(&a, id);
        strv_extend(&a, "--config-file");
        strv_extend(&a, i->config_path);
        *ret = a;
        return 0;
}

/* Not spawn_async(): the VMM's stderr goes to err_fd, the pipe the runner
 * reads it from (ours if negative), pass_fd (if >= 0) stays open for it
 * (QEMU's -incoming fd:N), SIGPIPE goes back to its default, and stdin is
 * /dev/null in a process group of its own unless keep_stdin (serial mode:
 * the caller's terminal). spawn.c has no flags for these. */
static int spawn_vmm(char **argv, bool keep_stdin, int err_fd, int pass_fd, pid_t *ret) {
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
                if (pass_fd >= 0 && fcntl(pass_fd, F_SETFD, 0) < 0)
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
        const char *binary;          /* the VMM */
        const char *accel;           /* QEMU's accelerator */
        bool accel_pinned;
        bool snapshot;               /* this call may restore or save one */
        char *snapshot_key;          /* NULL: it cannot (yet) */
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
        if (!WIFSIGNALED(status))
                return xasprintf("exit status %d", spawn_exit_status(status));
        return xasprintf("exit status %d, killed by SIG%s", spawn_exit_status(status),
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

/* For the log, and for the caller: the pilot that started the VM shows the
 * warning file on its stderr. */
static void warn_caller(const VmInstance *i, const char *w) {
        _cleanup_free_ char *path = path_join(i->runtime_dir, VM_WARNING_FILE);

        log_warning("%s", w);
        (void) write_file_atomic(path, w, strlen(w), 0644);
}

/* The VMM's command line for accel (under QEMU): EXIT_SUCCESS, or our exit
 * status (logged). */
static int vmm_argv(const VmInstance *i, const char *binary, char * const *serial_argv, const char *accel,
                    char ***ret) {
        int k = build_vmm_argv(i, binary, serial_argv, accel, ret);

        if (k < 0)
                /* -ENODEV only from setup_network(): flake-tap@ not started. */
                return k == -ENODEV ? RUNNER_EXIT_NO_NETWORK : RUNNER_EXIT_CONFIG;
        return EXIT_SUCCESS;
}

/* Starts the VMM with its stderr through us; pass_fd is left open for it.
 * EXIT_SUCCESS, or our exit status (logged). */
static int start_vmm(Runner *r, char **argv, bool serial, const char *accel, int pass_fd) {
        const VmInstance *i = r->inst;
        _cleanup_free_ char *pid = NULL;
        int fds[2] = { -EBADF, -EBADF };
        int k;

        /* The VMM gets our stdout: the console, to the journal. */
        if (log_get_max_level() >= LOG_DEBUG) {
                _cleanup_free_ char *j = strv_join(argv, " ");
                log_debug("%s: %s", i->name, j);
        }
        /* In serial mode the caller's terminal gets all of it. */
        if (!serial && pipe2(fds, O_CLOEXEC) < 0) {
                log_error_errno(errno, "%s: cannot create a pipe: %m", i->name);
                return EXIT_FAILURE;
        }
        k = spawn_vmm(argv, serial, fds[1], pass_fd, &r->vmm);
        (void) safe_close_fd(fds[1]);
        if (k < 0) {
                (void) safe_close_fd(fds[0]);
                log_error_errno(k, "%s: cannot start %s: %m", i->name, argv[0]);
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
                log_info("%s: started qemu, accelerator %s%s (pid %d)", i->name, accel,
                         pass_fd >= 0 ? ", from the snapshot" : "", (int) r->vmm);
        else
                log_info("%s: started %s (pid %d)", i->name, vmm_kind_to_string(i->vmm), (int) r->vmm);
        return EXIT_SUCCESS;
}

/* Builds the command line and starts the VMM: a cold boot. */
static int boot_vmm(Runner *r, const char *binary, char * const *serial_argv, const char *accel) {
        _cleanup_strv_free_ char **argv = NULL;
        int ret = vmm_argv(r->inst, binary, serial_argv, accel, &argv);

        if (ret != EXIT_SUCCESS)
                return ret;
        return start_vmm(r, argv, serial_argv != NULL, accel, -EBADF);
}

/* Forgets a VMM that is gone (or was stopped) before booting another. */
static void runner_reset(Runner *r) {
        /* Firecracker refuses sockets that exist. */
        (void) unlink(r->inst->vsock_socket);
        (void) unlink(r->inst->control_socket);
        r->serial_fd = safe_close_fd(r->serial_fd);
        runner_drain_vmm_err(r);
        r->vmm_err_fd = safe_close_fd(r->vmm_err_fd);
        agent_decoder_init(&r->serial_dec);
}

/* WAKE on a vsock connection of its own (Firecracker: one per session). */
static int wake_vsock(Runner *r, uint64_t deadline) {
        for (;;) {
                _cleanup_close_ int fd = agent_connect_vsock_uds(r->inst->vsock_socket, AGENT_VSOCK_PORT, 1000);
                int k;

                if (fd >= 0) {
                        k = agent_client_handshake(fd, 10000);
                        return k < 0 ? k : agent_client_wake(fd, 10000);
                }
                runner_check_signals(r);
                if (r->vmm_exited || r->stopping)
                        return -ECHILD;
                if (now_ms() > deadline)
                        return -ETIMEDOUT;
                usleep(20 * 1000);
        }
}

/* The restored guest: its agent takes the host's clock and a fresh seed
 * (flake-agent-protocol(7), WAKE) before anything else. */
static int wake_restored(Runner *r) {
        uint64_t deadline = now_ms() + vm_agent_timeout_sec() * 1000ULL;
        int k;

        if (r->inst->vmm == VMM_FIRECRACKER)
                return wake_vsock(r, deadline);
        k = connect_unix_retry(r->inst->serial_socket, r, deadline);
        if (k < 0)
                return k;
        r->serial_fd = k;
        k = agent_client_wake(r->serial_fd, 10000);
        return k < 0 ? vmm_exit_or(r, k) : 0;
}

/* Starts the VMM on the snapshot: QEMU with the cold command line and
 * -incoming on the memory file; Firecracker with its API socket only, then
 * told to load it. NULL, or why it failed. */
static char *start_restored(Runner *r, char **argv, int mem) {
        const VmInstance *i = r->inst;
        _cleanup_free_ char *id = firecracker_id(i->name), *err = NULL;
        _cleanup_strv_free_ char **a = NULL;

        if (i->vmm == VMM_QEMU) {
                a = strv_copy(argv);
                strv_extend(&a, "-incoming");
                strv_consume(&a, xasprintf("fd:%d", mem));
        } else {
                strv_extend(&a, r->binary);
                strv_extend(&a, "--api-sock");
                strv_extend(&a, i->control_socket);
                strv_extend(&a, "--id");
                strv_extend(&a, id);
        }
        if (start_vmm(r, a, false, r->accel, i->vmm == VMM_QEMU ? mem : -EBADF) != EXIT_SUCCESS)
                return xstrdup("the VMM did not start");
        if (i->vmm == VMM_FIRECRACKER && vm_snapshot_load_firecracker(i, &err) < 0)
                return xasprintf("firecracker: %s", strna(err));
        return NULL;
}

/* Restores the app's snapshot into this instance: true once the guest
 * agent is awake in it. Otherwise nothing of it runs and the call boots
 * cold; a snapshot that failed is discarded, with one warning. */
static bool snapshot_restore(Runner *r, char **argv) {
        const VmInstance *i = r->inst;
        _cleanup_close_ int dir = -EBADF, lock = -EBADF, mem = -EBADF;
        _cleanup_free_ char *why = NULL;
        int k;

        /* None yet, or one being written: a cold boot. */
        if (vm_snapshot_open(i, LOCK_SH | LOCK_NB, &dir, &lock) < 0)
                return false;
        k = vm_snapshot_find(dir, r->snapshot_key, &mem);
        if (k == 0)
                return false;
        if (k < 0)
                why = xstrdup("its files are not the VMM user's alone");
        else if (i->overlay_path && vm_snapshot_overlay_restore(dir, i->overlay_path) < 0)
                why = xstrdup("its overlay cannot be copied");
        else {
                why = start_restored(r, argv, mem);
                if (!why) {
                        k = wake_restored(r);
                        if (k == -ECHILD) {
                                _cleanup_free_ char *st = vmm_status_string(r->vmm_status),
                                                    *err = vmm_err_lines(r, 2);
                                why = xasprintf("%s %s%s%s", vmm_kind_to_string(i->vmm), st, err ? ": " : "",
                                                strempty(err));
                        } else if (k < 0)
                                why = xasprintf("the guest agent did not wake: %s", strerror(-k));
                }
        }
        if (i->overlay_path)
                vm_snapshot_overlay_done(i->overlay_path, !why);
        if (!why) {
                log_info("%s: restored from the snapshot", i->name);
                return true;
        }
        _cleanup_free_ char *w = xasprintf("%s: the snapshot in %s cannot be restored (%s): discarded, booting cold",
                                           i->name, i->snapshot_dir, why);
        warn_caller(i, w);
        stop_vmm(r);
        runner_reset(r);
        vm_snapshot_discard(dir);
        return false;
}

/* After a cold boot, before any session: saves the VM for the next calls,
 * unless another call is saving it (concurrent first calls make one) or
 * has saved it meanwhile. The agent must take WAKE: a restore needs it. */
static bool snapshot_save(Runner *r) {
        const VmInstance *i = r->inst;
        _cleanup_close_ int dir = -EBADF, lock = -EBADF, mem = -EBADF;
        int k;

        if (vm_snapshot_open(i, LOCK_EX | LOCK_NB, &dir, &lock) < 0)
                return false;
        if (vm_snapshot_find(dir, r->snapshot_key, &mem) > 0)
                return true;
        k = i->vmm == VMM_QEMU ? agent_client_wake(r->serial_fd, 5000) : wake_vsock(r, now_ms() + 5000);
        if (k < 0) {
                log_full_errno(LOG_NOTICE, k, "%s: the guest agent does not take WAKE (an sci older than snapshots?), no snapshot: %m",
                               i->name);
                return false;
        }
        if (i->vmm == VMM_QEMU)
                return vm_snapshot_save_qemu(i, dir, r->snapshot_key) >= 0;
        return vm_snapshot_save_firecracker(i, dir, r->snapshot_key) >= 0;
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
        if (!WIFSIGNALED(status))
                return spawn_exit_status(status);
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
                /* Said here, before anything of ours can fail: the pilot
                 * shows the runner's last line, which must be the error. */
                log_info("%s: the VMM runs as user %s (runner %d)", i->name, u->name, (int) getpid());
                /* Our images must be readable by the VMM, not by root. */
                if (check_images(i) < 0)
                        _exit(RUNNER_EXIT_CONFIG);
                return 0;
        }
        close(fds[1]);
        k = keep_supervisor_caps();
        if (k < 0)
                log_warning_errno(k, "%s: cannot drop the supervisor's capabilities: %m", i->name);
        *ret_status = supervise(i, pid, signal_fd, fds[0]);
        return 1;
}

/* The VMM user, for root (flake-vm@.service(8), "Privileges"): EXIT_SUCCESS,
 * or RUNNER_EXIT_CONFIG (logged). */
static int resolve_vmm_user(const VmInstance *i, VmUser *ret) {
        int k = vm_user_resolve(i->flake->runas, ret);

        if (k == -EPERM) {
                log_error("%s: the VMM user '%s' is root: a VMM never runs as root", i->name,
                          vm_user_name(i->flake->runas));
                return RUNNER_EXIT_CONFIG;
        }
        if (k < 0) {
                log_error_errno(k, "%s: the VMM user '%s' does not exist (vm.runtime.runas, or for root "
                                   "the system user " VM_SYSTEM_USER " from sysusers.d): %m",
                                i->name, vm_user_name(i->flake->runas));
                return RUNNER_EXIT_CONFIG;
        }
        return EXIT_SUCCESS;
}

/* What must hold before anything is made: EXIT_SUCCESS, or our exit status
 * (logged). */
static int check_instance(const VmInstance *i, bool snapshot_only, char **ret_binary) {
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ char *error = NULL;

        if (vm_instance_boot_args(i->flake, i->name, &args, &error) < 0) {
                log_error("%s: %s", i->name, error);
                return RUNNER_EXIT_CONFIG;
        }
        if (snapshot_only && !vm_snapshot_wanted(i)) {
                log_error("%s: snapshots are made for one-shot flakes without NFS volumes, with vm.runtime.snapshot on",
                          i->name);
                return RUNNER_EXIT_CONFIG;
        }
        if (check_images(i) < 0)
                return RUNNER_EXIT_CONFIG;
        if (vm_instance_vmm_binary(i, ret_binary) < 0)
                return RUNNER_EXIT_NO_VMM;
        return EXIT_SUCCESS;
}

/* Takes the instance's lock and makes its runtime dir afresh (whatever a
 * crashed runner left is stale now): EXIT_SUCCESS or EXIT_FAILURE (logged). */
static int claim_runtime_dir(const VmInstance *i, int *ret_lock_fd) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *pid = NULL;
        int k;

        k = mkdir_parents(i->runtime_dir, 0755);
        if (k < 0) {
                log_error_errno(k, "%s: cannot create the runtime directory: %m", i->name);
                return EXIT_FAILURE;
        }
        fd = lock_file_at(AT_FDCWD, i->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW, LOCK_EX | LOCK_NB);
        if (fd < 0) {
                log_error("%s: the VM is already running", i->name);
                return EXIT_FAILURE;
        }
        cleanup_instance(i);
        if (mkdir(i->runtime_dir, 0700) < 0) {
                log_error_errno(errno, "%s: cannot create %s: %m", i->name, i->runtime_dir);
                return EXIT_FAILURE;
        }
        /* Our pid, for a pilot that has to stop us: in the lock we hold,
         * not in the runtime dir, which the VMM user may rewrite. */
        pid = xasprintf("%d\n", (int) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) != (ssize_t) strlen(pid))
                log_warning_errno(errno, "%s: cannot write our pid into %s: %m", i->name, i->lock_path);
        *ret_lock_fd = TAKE_FD(fd);
        return EXIT_SUCCESS;
}

/* Stop signals and SIGCHLD through a signalfd. */
static int block_signals(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) signal(SIGPIPE, SIG_IGN);
        return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* The snapshot's key for what this call boots (under the current
 * accelerator); NULL when the call makes no snapshot. */
static int snapshot_rekey(Runner *r) {
        _cleanup_strv_free_ char **argv = NULL;
        int ret;

        free(r->snapshot_key);
        r->snapshot_key = NULL;
        ret = vmm_argv(r->inst, r->binary, NULL, r->accel, &argv);
        if (ret == EXIT_SUCCESS)
                r->snapshot_key = vm_snapshot_key(r->inst, argv);
        return ret;
}

/* /dev/kvm opened, yet QEMU died before the guest answered (nested or
 * para-virtualized KVM)? QEMU's own fallback (-accel kvm -accel tcg) only
 * covers a KVM that fails to initialize, and a TCG boot needs
 * tsc_early_khz=. */
static bool kvm_cannot_run_guest(const Runner *r, int k) {
        return k == -ECHILD && !r->stopping && r->inst->vmm == VMM_QEMU && !r->accel_pinned &&
               streq(r->accel, "kvm") && spawn_exit_status(r->vmm_status) != 0;
}

/* Boots again under TCG, and says so once: it is much slower. */
static int fall_back_to_tcg(Runner *r) {
        _cleanup_free_ char *st = vmm_status_string(r->vmm_status), *why = vmm_err_lines(r, 2), *w = NULL;
        int ret;

        w = xasprintf("%s: KVM cannot run the guest (qemu %s%s%s), falling back to TCG (software emulation, "
                      "much slower; FLAKE_QEMU_ACCEL or vm.runtime.qemu_accel pin an accelerator)",
                      r->inst->name, st, why ? ": " : "", strempty(why));
        warn_caller(r->inst, w);
        runner_reset(r);
        r->accel = "tcg";
        /* A snapshot is saved under TCG, for what the next call boots; the
         * next call goes to TCG at once to find it (kvm_failed_before()). */
        if (r->snapshot_key) {
                (void) snapshot_rekey(r);
                vm_snapshot_note_kvm(r->inst, false);
        }
        ret = boot_vmm(r, r->binary, NULL, r->accel);
        return ret != EXIT_SUCCESS ? ret : 0;
}

/* Why the guest agent did not answer: our exit status (logged), or
 * EXIT_SUCCESS when we are being stopped. */
static int agent_failure(Runner *r, int k) {
        const VmInstance *i = r->inst;

        if (r->stopping)
                return EXIT_SUCCESS;
        if (k == -ETIMEDOUT) {
                log_error("%s: the guest agent did not answer within %u s (does the image run sci as init?)", i->name,
                          vm_agent_timeout_sec());
                return RUNNER_EXIT_NO_AGENT;
        }
        if (k == -ECHILD) {
                _cleanup_free_ char *st = vmm_status_string(r->vmm_status), *why = vmm_err_lines(r, 3),
                                    *what = i->vmm == VMM_QEMU ? xasprintf("qemu (accelerator %s)", r->accel)
                                                               : xstrdup(vmm_kind_to_string(i->vmm));
                log_error("%s: %s failed before the guest agent answered (%s)%s%s", i->name, what, st,
                          why ? ": " : "", strempty(why));
                return RUNNER_EXIT_VMM_FAILED;
        }
        log_error_errno(k, "%s: the guest does not speak the agent protocol: %m", i->name);
        return RUNNER_EXIT_NO_AGENT;
}

/* A cold boot up to the guest agent's answer: EXIT_SUCCESS, or our exit
 * status (logged); r->stopping if a signal came first. */
static int boot_to_agent(Runner *r) {
        int ret, k;

        ret = boot_vmm(r, r->binary, NULL, r->accel);
        if (ret != EXIT_SUCCESS)
                return ret;
        k = wait_for_agent(r);
        if (kvm_cannot_run_guest(r, k)) {
                k = fall_back_to_tcg(r);
                if (k > 0)
                        return k;
                k = wait_for_agent(r);
        }
        return k < 0 ? agent_failure(r, k) : EXIT_SUCCESS;
}

/* The guest with its agent answering: restored from the snapshot, or booted
 * cold (and then saved, for the next calls). *ret_snapshot: a snapshot of
 * this VM exists now. */
static int start_guest(Runner *r, bool *ret_snapshot) {
        _cleanup_strv_free_ char **argv = NULL;
        int ret;

        *ret_snapshot = false;
        if (r->snapshot_key) {
                ret = vmm_argv(r->inst, r->binary, NULL, r->accel, &argv);
                if (ret != EXIT_SUCCESS)
                        return ret;
                if (snapshot_restore(r, argv)) {
                        *ret_snapshot = true;
                        return EXIT_SUCCESS;
                }
        }
        ret = boot_to_agent(r);
        if (ret != EXIT_SUCCESS || r->stopping)
                return ret;
        /* KVM pinned for this call ran the guest: unpinned calls try KVM
         * again. */
        if (r->snapshot && r->accel_pinned && streq(r->accel, "kvm"))
                vm_snapshot_note_kvm(r->inst, true);
        if (r->snapshot_key)
                *ret_snapshot = snapshot_save(r);
        return EXIT_SUCCESS;
}

/* Sessions until the VM powers off or we are stopped. */
static int serve(Runner *r) {
        const VmInstance *i = r->inst;
        int status;

        if (i->vmm == VMM_QEMU) {
                r->listen_fd = listen_unix(i->agent_socket);
                if (r->listen_fd < 0) {
                        log_error_errno(r->listen_fd, "%s: cannot listen on %s: %m", i->name, i->agent_socket);
                        return EXIT_FAILURE;
                }
        }
        (void) write_file_atomic(i->ready_path, "", 0, 0644);
        notify("READY=1");
        log_info("%s: the guest agent is ready", i->name);

        runner_loop(r);
        if (!r->vmm_exited || r->stopping)
                return EXIT_SUCCESS;
        status = spawn_exit_status(r->vmm_status);
        if (status == 0) {
                log_info("%s: the VM powered off", i->name);
                return EXIT_SUCCESS;
        }
        log_error("%s: %s ended with status %d", i->name, vmm_kind_to_string(i->vmm), status);
        return RUNNER_EXIT_VMM_FAILED;
}

/* Unpinned, with a snapshot to find: KVM that could not run this guest
 * earlier in this boot is not tried again (fall_back_to_tcg() noted it),
 * so the call goes to TCG at once and restores what the fallback saved. */
static void kvm_failed_before(Runner *r) {
        if (!r->snapshot || r->inst->vmm != VMM_QEMU || r->accel_pinned || !streq(r->accel, "kvm") ||
            !vm_snapshot_kvm_failed(r->inst))
                return;
        log_info("%s: KVM could not run this guest earlier in this boot, using TCG "
                 "(FLAKE_QEMU_ACCEL=kvm tries KVM again)", r->inst->name);
        r->accel = "tcg";
}

/* As the VMM user: everything from the VMM's start to its end. */
static int run_vm(Runner *r, char * const *serial_argv, bool snapshot_only) {
        bool snapshot = false;
        int ret;

        /* As the VMM user: /dev/kvm must open for it. */
        if (r->inst->vmm == VMM_QEMU && qemu_accel(r->inst, &r->accel, &r->accel_pinned) < 0)
                return RUNNER_EXIT_CONFIG;
        if (serial_argv) {
                /* The original protocol: the VMM is the program's terminal
                 * and its exit status is ours. */
                ret = boot_vmm(r, r->binary, serial_argv, r->accel);
                if (ret != EXIT_SUCCESS)
                        return ret;
                runner_loop(r);
                return r->vmm_exited ? spawn_exit_status(r->vmm_status) : EXIT_SUCCESS;
        }
        /* The key as the VMM user sees the files. */
        kvm_failed_before(r);
        if (r->snapshot) {
                ret = snapshot_rekey(r);
                if (ret != EXIT_SUCCESS)
                        return ret;
        }
        ret = start_guest(r, &snapshot);
        if (ret != EXIT_SUCCESS || r->stopping)
                return ret;
        if (!snapshot_only)
                return serve(r);
        /* flake-ctl firecracker snapshot: made (or up to date); the VM goes
         * without a session. */
        if (!snapshot) {
                log_error("%s: no snapshot could be made", r->inst->name);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

static void runner_done(Runner *r) {
        notify("STOPPING=1");
        stop_vmm(r);
        for (size_t k = 0; k < CLIENTS_MAX; k++)
                if (r->clients[k])
                        client_close(r, r->clients[k], false);
        r->serial_fd = safe_close_fd(r->serial_fd);
        r->listen_fd = safe_close_fd(r->listen_fd);
        r->signal_fd = safe_close_fd(r->signal_fd);
        runner_drain_vmm_err(r);
        r->vmm_err_fd = safe_close_fd(r->vmm_err_fd);
        free(r->snapshot_key);
}

static int verb_run(const char *name, char * const *serial_argv, bool snapshot_only) {
        _cleanup_(vm_instance_freep) VmInstance *i = NULL;
        _cleanup_free_ char *binary = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        _cleanup_(vm_user_done) VmUser user = {};
        bool privileged = geteuid() == 0;
        int k, ret;

        if (vm_instance_load(name, &i) < 0)
                return RUNNER_EXIT_CONFIG;
        log_set_context(i->app, "firecracker", i->name);
        ret = check_instance(i, snapshot_only, &binary);
        if (ret == EXIT_SUCCESS && privileged)
                ret = resolve_vmm_user(i, &user);
        if (ret == EXIT_SUCCESS)
                ret = claim_runtime_dir(i, &lock_fd);
        if (ret != EXIT_SUCCESS)
                return ret;

        Runner r = { .inst = i, .binary = binary, .serial_fd = -EBADF, .listen_fd = -EBADF,
                     .signal_fd = block_signals(), .vmm_err_fd = -EBADF };
        if (vm_overlay_prepare(i) < 0) {
                ret = RUNNER_EXIT_CONFIG;
                goto out;
        }
        r.snapshot = !serial_argv && vm_snapshot_wanted(i) &&
                     vm_snapshot_dir_prepare(i, privileged ? user.uid : geteuid(),
                                             privileged ? user.gid : getegid()) >= 0;
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
                        ret = status;
                        goto out;
                }
        }
        ret = run_vm(&r, serial_argv, snapshot_only);
out:
        runner_done(&r);
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
                return verb_run(argv[2], argv + 3, false);
        }
        if (argc != 3 || (!streq(argv[1], "run") && !streq(argv[1], "cleanup") && !streq(argv[1], "snapshot"))) {
                fprintf(stderr, "usage: flake-vm run|cleanup|snapshot INSTANCE | flake-vm serial INSTANCE PROGRAM [ARG...]\n");
                return RUNNER_EXIT_CONFIG;
        }
        if (streq(argv[1], "run") || streq(argv[1], "snapshot"))
                return verb_run(argv[2], NULL, streq(argv[1], "snapshot"));
        return verb_cleanup(argv[2]);
}
