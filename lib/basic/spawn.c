/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "spawn.h"
#include "strv.h"
#include "url-redact.h"

/* The command line only: the environment added for the child is never
 * logged (it is private to a process, unlike /proc/PID/cmdline, and may
 * hold credentials), and URLs lose their user info and query strings. */
static void log_command(char * const *argv) {
        _cleanup_free_ char *a = NULL, *redacted = NULL;

        if (log_get_max_level() < LOG_DEBUG)
                return;
        a = strv_join(argv, " ");
        redacted = url_redact(a);
        log_debug("run: %s", redacted);
}

static _noreturn_ void child(char * const *argv, char * const *env, SpawnFlags flags, int out_fd) {
        int null_fd = -EBADF;
        sigset_t none;

        /* A caller waiting with sigwaitinfo() blocks signals; the mask
         * survives exec, the program must not inherit it. */
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        if (flags & SPAWN_NEW_PGRP)
                (void) setpgid(0, 0);
        if (flags & (SPAWN_NULL_STDIN | SPAWN_NULL_STDOUT | SPAWN_NULL_STDERR))
                null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if ((flags & SPAWN_NULL_STDIN) && null_fd >= 0)
                dup2(null_fd, STDIN_FILENO);
        if (out_fd >= 0)
                dup2(out_fd, STDOUT_FILENO);
        else if ((flags & SPAWN_NULL_STDOUT) && null_fd >= 0)
                dup2(null_fd, STDOUT_FILENO);
        if ((flags & SPAWN_NULL_STDERR) && null_fd >= 0)
                dup2(null_fd, STDERR_FILENO);
        else if (flags & SPAWN_STDERR_TO_STDOUT)
                dup2(STDOUT_FILENO, STDERR_FILENO);

        STRV_FOREACH(e, env)
                putenv(*e);
        execvp(argv[0], argv);
        _exit(errno == ENOENT ? 127 : 126);
}

static int spawn_internal(char * const *argv, char * const *env, SpawnFlags flags, int out_fd, pid_t *ret_pid) {
        _cleanup_free_ char *path = NULL;
        pid_t pid;

        /* Find the program first, so "not installed" is an error we can name
         * rather than exit status 127 from the child. */
        if (!find_executable(argv[0], &path))
                return -ENOENT;

        log_command(argv);
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0)
                child(argv, env, flags, out_fd);
        *ret_pid = pid;
        return 0;
}

int spawn_wait_pid(pid_t pid) {
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return -EIO;
}

int spawn_async(char * const *argv, char * const *env, SpawnFlags flags, pid_t *ret_pid) {
        return spawn_internal(argv, env, flags & ~SPAWN_CAPTURE_STDOUT, -EBADF, ret_pid);
}

int spawn_wait(char * const *argv, char * const *env, SpawnFlags flags, char **ret_stdout) {
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        pid_t pid;
        int r;

        if (flags & SPAWN_CAPTURE_STDOUT) {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0)
                        return negative_errno();
                rfd = p[0];
                wfd = p[1];
        }

        r = spawn_internal(argv, env, flags, wfd, &pid);
        if (r < 0)
                return r;

        if (rfd >= 0) {
                char buf[4096];
                ssize_t n;

                close(TAKE_FD(wfd));
                out = xmalloc(1);
                while ((n = read(rfd, buf, sizeof(buf))) != 0) {
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                break;
                        }
                        out = xrealloc(out, size + (size_t) n + 1);
                        memcpy(out + size, buf, (size_t) n);
                        size += (size_t) n;
                        out[size] = 0;
                }
        }

        r = spawn_wait_pid(pid);
        if (r >= 0 && ret_stdout)
                *ret_stdout = TAKE_PTR(out);
        return r;
}

bool find_executable(const char *name, char **ret_path) {
        _cleanup_free_ char *copy = NULL;
        const char *path;
        char *save = NULL;

        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0)
                        return false;
                if (ret_path)
                        *ret_path = xstrdup(name);
                return true;
        }
        path = getenv("PATH");
        copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin");
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = path_join(d, name);
                struct stat st;

                if (stat(p, &st) >= 0 && S_ISREG(st.st_mode) && access(p, X_OK) >= 0) {
                        if (ret_path)
                                *ret_path = TAKE_PTR(p);
                        return true;
                }
        }
        return false;
}

void sigset_forwarded(sigset_t *ret) {
        sigemptyset(ret);
        sigaddset(ret, SIGHUP);
        sigaddset(ret, SIGINT);
        sigaddset(ret, SIGQUIT);
        sigaddset(ret, SIGTERM);
        sigaddset(ret, SIGWINCH);
}
