/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "sandbox.h"

#define SANDBOX_MAX_FDS 8

static void seccomp_releasep(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}

/* Moves fds to 3, 4, ... (through numbers above all of them, so that no
 * move overwrites a descriptor still to be moved) and closes the rest. */
static int keep_only_fds(const int *fds, size_t n, int *ret) {
        int high = 3 + (int) n;

        for (size_t i = 0; i < n; i++)
                if (fds[i] >= high)
                        high = fds[i] + 1;
        for (size_t i = 0; i < n; i++) {
                ret[i] = fcntl(fds[i], F_DUPFD, high);
                if (ret[i] < 0)
                        return -errno;
        }
        for (size_t i = 0; i < n; i++) {
                if (dup2(ret[i], 3 + (int) i) < 0)
                        return -errno;
                ret[i] = 3 + (int) i;
        }
        if (close_range(3 + (unsigned) n, ~0U, 0) < 0)
                return -errno;
        return 0;
}

static int drop_capabilities(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {};

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        /* Without CAP_SETPCAP (flake-pull@ does not have it, nor does a
         * user) the bounding set stays; with nothing permitted, no exec and
         * no_new_privs, nothing can be gained from it. */
        for (unsigned long c = 0; c < 64; c++)
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno == EINVAL)
                        break;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        return 0;
}

static int install_seccomp(void) {
        static const int allowed[] = {
                SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
                SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(preadv), SCMP_SYS(pwritev),
                SCMP_SYS(preadv2), SCMP_SYS(pwritev2), SCMP_SYS(lseek), SCMP_SYS(fstat),
                SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fallocate), SCMP_SYS(fcntl),
                SCMP_SYS(close), SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
                SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(getrandom), SCMP_SYS(clock_gettime),
                SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getpid), SCMP_SYS(gettid),
                SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
                SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(sigaltstack),
                SCMP_SYS(exit), SCMP_SYS(exit_group),
        };
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!ctx)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
                if (r < 0)
                        return r;
        }
        /* fstat(): glibc asks for it as newfstatat(fd, "", AT_EMPTY_PATH). */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
                             SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
        if (r >= 0)     /* memory, never executable */
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0);
        if (r >= 0)
                r = seccomp_load(ctx);
        return r;
}

static _noreturn_ void child(const char *what, const int *fds, size_t n_fds,
                             int (*fn)(const int *fds, void *userdata), void *userdata) {
        int moved[SANDBOX_MAX_FDS];
        int r;

        /* Plain stderr: the journal socket is one of the descriptors that
         * go (under flake-pull@ stderr is the journal anyway). */
        log_set_targets(LOG_TARGET_STDERR);
        r = keep_only_fds(fds, n_fds, moved);
        if (r >= 0)
                r = drop_capabilities();
        if (r >= 0)
                r = install_seccomp();
        if (r < 0) {
                log_error_errno(r, "Cannot sandbox the %s: %m", what);
                _exit(-r > 255 ? 255 : -r);
        }
        r = fn(moved, userdata);
        /* _exit(): no atexit handlers (a sanitizer's leak check would need
         * system calls the filter denies). */
        fflush(stderr);
        _exit(r >= 0 ? 0 : -r > 255 ? 255 : -r);
}

int sandbox_run(const char *what, const int *fds, size_t n_fds, int (*fn)(const int *fds, void *userdata), void *userdata) {
        siginfo_t si = {};
        pid_t pid;

        assert(n_fds <= SANDBOX_MAX_FDS);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                return log_error_errno(negative_errno(), "Cannot start the %s: %m", what);
        if (pid == 0)
                child(what, fds, n_fds, fn, userdata);

        while (waitid(P_PID, pid, &si, WEXITED) < 0)
                if (errno != EINTR)
                        return log_error_errno(negative_errno(), "Cannot wait for the %s: %m", what);
        if (si.si_code == CLD_EXITED)
                return -si.si_status;           /* logged by the child */
        return log_error_errno(SYNTHETIC_ERRNO(EIO), "The %s was killed by signal SIG%s",
                               what, sigabbrev_np(si.si_status) ?: "?");
}
