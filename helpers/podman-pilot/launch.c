/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>

#include "log.h"
#include "pilot.h"
#include "spawn.h"

#define SESSION_ENV "FLAKE_SESSION"
/* How long a signal waits for its exec'd process to appear (podman exec
 * may still be setting it up) before it goes to podman instead. */
#define SESSION_FIND_TRIES 40
#define SESSION_FIND_DELAY_NSEC (50 * 1000 * 1000L)

char *launch_session_token(void) {
        uint64_t rnd = 0;

        (void) !getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
        return xasprintf("%d.%016llx", (int) getpid(), (unsigned long long) rnd);
}

/* Does /proc/<pid>/environ hold needle ("\0KEY=value\0")? */
static bool environ_has(pid_t pid, const char *needle, size_t n) {
        _cleanup_free_ char *path = xasprintf("/proc/%d/environ", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char buf[65536];
        size_t size = 1;
        ssize_t k;

        if (fd < 0)
                return false;
        buf[0] = 0;     /* so the first entry is preceded by a NUL as well */
        while (size < sizeof(buf) - 1 && (k = read(fd, buf + size, sizeof(buf) - 1 - size)) > 0)
                size += (size_t) k;
        buf[size++] = 0;
        return memmem(buf, size, needle, n) != NULL;
}

static pid_t parent_of(pid_t pid) {
        _cleanup_free_ char *path = xasprintf("/proc/%d/stat", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char buf[512], *p;
        ssize_t k;
        int ppid;

        if (fd < 0 || (k = read(fd, buf, sizeof(buf) - 1)) <= 0)
                return 0;
        buf[k] = 0;
        p = strrchr(buf, ')');   /* comm may contain anything, even ") " */
        if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
                return 0;
        return ppid;
}

/* The process podman exec started in the container, seen from the host:
 * the one carrying our session variable whose parent does not (its
 * children inherit the variable). Only possible where the pilot may read
 * the container's processes (rootful podman run by root, rootless podman
 * as the caller). */
static pid_t find_session_process(const char *token) {
        _cleanup_free_ char *needle = xasprintf("%c%s=%s", 0, SESSION_ENV, token);
        size_t n = strlen(needle + 1) + 2;   /* leading and trailing NUL */
        DIR *d = opendir("/proc");
        struct dirent *de;
        pid_t found = 0;

        if (!d)
                return 0;
        while (!found && (de = readdir(d))) {
                pid_t pid;

                if (strspn(de->d_name, "0123456789") != strlen(de->d_name))
                        continue;
                pid = (pid_t) atoi(de->d_name);
                if (pid == getpid() || !environ_has(pid, needle, n))
                        continue;
                if (!environ_has(parent_of(pid), needle, n))
                        found = pid;
        }
        closedir(d);
        return found;
}

/* Signals sent to the pilot (kill, systemctl stop of the scope) go on to the
 * app. For podman run and start --attach that means podman, which proxies
 * them (--sig-proxy). podman exec does not: it exits and leaves the process
 * running in the container. So for an exec session the pilot delivers the
 * signal itself to the exec'd process, found by the session variable, and
 * podman exec goes on to return the app's exit status.
 *
 * Signals from the terminal (Ctrl-C) reach podman directly when it shares
 * our process group; forwarding them as well would deliver them twice. */
static int termination_signal;

int launch_termination_signal(void) {
        return termination_signal;
}

int launch_podman(const PodmanContext *p, char * const *args, SpawnFlags flags, const char *session) {
        sigset_t mask, old;
        int pending = 0, tries = 0, status, r;
        pid_t pid;

        sigset_forwarded(&mask);
        sigaddset(&mask, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &mask, &old);

        r = podman_async(p, args, flags, &pid);
        if (r < 0) {
                (void) sigprocmask(SIG_SETMASK, &old, NULL);
                return r;
        }

        for (;;) {
                struct timespec delay = { .tv_nsec = SESSION_FIND_DELAY_NSEC };
                siginfo_t si;
                pid_t w;
                int sig;

                w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR) {
                        r = negative_errno();
                        goto finish;
                }

                if (pending) {
                        pid_t target = find_session_process(session);

                        if (target > 0) {
                                log_debug("Sending signal %d to the app (pid %d)", pending, (int) target);
                                (void) kill(target, pending);
                                pending = 0;
                        } else if (++tries >= SESSION_FIND_TRIES) {
                                log_debug("App of the exec session not found, signal %d goes to podman", pending);
                                (void) kill(pid, pending);
                                pending = 0;
                        }
                }

                sig = pending ? sigtimedwait(&mask, &si, &delay) : sigwaitinfo(&mask, &si);
                if (sig <= 0 || sig == SIGCHLD)
                        continue;
                /* A window size change from the terminal reaches podman
                 * itself; one relayed by the launch service is passed on
                 * (podman then reads the new size from the terminal). */
                if (sig == SIGWINCH) {
                        if (si.si_code != SI_KERNEL)
                                (void) kill(pid, SIGWINCH);
                        continue;
                }
                if (sig == SIGTERM || sig == SIGHUP)
                        termination_signal = sig;
                if (session) {
                        pending = sig;
                        tries = 0;
                } else if (si.si_code != SI_KERNEL)
                        (void) kill(pid, sig);
        }
        r = spawn_exit_status(status);
finish:
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
