/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "podman.h"
#include "strv.h"

void podman_context_done(PodmanContext *p) {
        free(p->podman);
        free(p->storage_conf);
        strv_free(p->env);
        *p = (PodmanContext) {};
}

static char *unquote(char *s) {
        size_t l;

        s += strspn(s, " \t");
        l = strlen(s);
        while (l > 0 && strchr(" \t\r\n", s[l - 1]))
                s[--l] = 0;
        if (l >= 2 && (s[0] == '"' || s[0] == '\'') && s[l - 1] == s[0]) {
                s[l - 1] = 0;
                s++;
        }
        return s;
}

int storage_conf_runroot(const char *path, char **ret) {
        _cleanup_free_ char *text = NULL;
        bool in_storage = false;
        char *save = NULL;
        int r;

        r = read_full_file(path, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *l = line + strspn(line, " \t"), *eq;

                if (l[0] == '[') {
                        in_storage = startswith(l, "[storage]") != NULL;
                        continue;
                }
                if (!in_storage || !(eq = strchr(l, '=')))
                        continue;
                *eq = 0;
                if (!streq(unquote(l), "runroot"))
                        continue;
                *ret = xstrdup(unquote(eq + 1));
                return 0;
        }
        return -ENOENT;
}

static char *caller_name(void) {
        struct passwd *pw = getpwuid(getuid());

        return pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned) getuid());
}

static bool caller_has_runtime_dir(void) {
        const char *x = getenv("XDG_RUNTIME_DIR");
        struct stat st;

        return path_is_absolute(x) && stat(x, &st) >= 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid();
}

int podman_context_init(PodmanContext *p, const char *storage_conf, const char *runas) {
        const char *e = getenv("FLAKE_PODMAN");
        _cleanup_free_ char *runroot = NULL;

        /* Rootful podman for somebody who is not root goes through the
         * launch service, never through sudo: see podman.h. */
        if (streq_ptr(runas, "root") && geteuid() != 0) {
                *p = (PodmanContext) {};
                return -EPERM;
        }
        *p = (PodmanContext) {
                .rootful = streq_ptr(runas, "root"),
                .storage_conf = xstrdup(storage_conf),
        };
        if (!find_executable(isempty(e) ? "podman" : e, &p->podman)) {
                podman_context_done(p);
                return -ENOENT;
        }
        strv_consume(&p->env, xasprintf("CONTAINERS_STORAGE_CONF=%s", storage_conf));

        /* Rootless podman keeps its runtime state below XDG_RUNTIME_DIR. A
         * caller with a runtime dir of its own (a login session, a service
         * of the user's manager) keeps it: the user's bus is there, which
         * podman's systemd cgroup manager and runc need (with another one,
         * runc fails: "unable to start unit libpod-....scope ... Permission
         * denied"). Others (cron, su without a session) get one per user
         * under the store's runroot, as the original does; a store without a
         * readable runroot keeps whatever the caller has. */
        if (!p->rootful && geteuid() != 0 && !caller_has_runtime_dir() &&
            storage_conf_runroot(storage_conf, &runroot) >= 0) {
                _cleanup_free_ char *user = caller_name();
                _cleanup_free_ char *dir = path_join(runroot, user);

                if (mkdir_p(dir, 0700) >= 0 || is_dir(dir))
                        strv_consume(&p->env, xasprintf("XDG_RUNTIME_DIR=%s", dir));
        }
        return 0;
}

char **podman_argv(const PodmanContext *p, char * const *args) {
        char **argv = NULL;

        strv_extend(&argv, p->podman);
        strv_extend_strv(&argv, args);
        return argv;
}

int podman_wait(const PodmanContext *p, char * const *args, SpawnFlags flags, char **ret_stdout) {
        _cleanup_strv_free_ char **argv = podman_argv(p, args);

        if (ret_stdout)
                flags |= SPAWN_CAPTURE_STDOUT;
        return spawn_wait(argv, p->env, flags, ret_stdout);
}

int podman_async(const PodmanContext *p, char * const *args, SpawnFlags flags, pid_t *ret_pid) {
        _cleanup_strv_free_ char **argv = podman_argv(p, args);

        return spawn_async(argv, p->env, flags, ret_pid);
}

int podman_waitl(const PodmanContext *p, SpawnFlags flags, char **ret_stdout, ...) {
        _cleanup_strv_free_ char **args = NULL;
        va_list ap;

        va_start(ap, ret_stdout);
        for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *))
                strv_extend(&args, a);
        va_end(ap);
        return podman_wait(p, args, flags, ret_stdout);
}

char *podman_chomp(char *s) {
        size_t l = s ? strlen(s) : 0;

        while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == '\r'))
                s[--l] = 0;
        return s;
}

bool podman_container_id_is_valid(const char *s) {
        size_t n = s ? strspn(s, "0123456789abcdef") : 0;

        return n >= 12 && n <= 64 && s[n] == 0;
}

int podman_read_cid_file(int dir_fd, const char *name, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        char buf[130];
        ssize_t n;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        /* podman ends it without a newline; a hand-made one may have one. */
        if (n > 0 && buf[n - 1] == '\n')
                buf[--n] = 0;
        if (n == 0)
                return -ENOENT;
        if (!podman_container_id_is_valid(buf))
                return -EBADMSG;
        *ret = xstrdup(buf);
        return 0;
}
