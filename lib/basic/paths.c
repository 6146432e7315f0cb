/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>

#include "build-config.h"
#include "fileio.h"
#include "macro.h"
#include "log.h"
#include "paths.h"
#include "strv.h"

static const struct {
        const char *env;
        const char *def;
        bool under_root;
} path_table[_FLAKE_PATH_MAX] = {
        [FLAKE_PATH_CONFIG]          = { "FLAKE_CONFIG",          SYSCONFDIR "/flakes.yml", true },
        [FLAKE_PATH_TEMPLATE_DIR]    = { "FLAKE_TEMPLATE_DIR",    SYSCONFDIR "/flakes", true },
        [FLAKE_PATH_FLAKES_DIR]      = { NULL,                    "/usr/share/flakes", true },
        [FLAKE_PATH_IDS_DIR]         = { NULL,                    "/tmp/flakes", true },
        [FLAKE_PATH_STORAGE_CONF]    = { NULL,                    SYSCONFDIR "/flakes/storage.conf", true },
        [FLAKE_PATH_FIRECRACKER_DIR] = { "FLAKE_FIRECRACKER_DIR", "/var/lib/firecracker", true },
        [FLAKE_PATH_RUNTIME_DIR]     = { "FLAKE_RUNTIME_DIR",     "/run/flakes", true },
        /* Binaries are not looked for under FLAKE_ROOT: a private root holds
         * registrations, not an installation. */
        [FLAKE_PATH_BINDIR]          = { "FLAKE_BINDIR",          BINDIR, false },
        [FLAKE_PATH_LIBEXECDIR]      = { "FLAKE_LIBEXECDIR",      LIBEXECDIR, false },
        [FLAKE_PATH_SCI]             = { "FLAKE_SCI",             LIBDIR "/flake-pilot/sci", false },
};

static char *resolved[_FLAKE_PATH_MAX];

const char *flake_root(void) {
        const char *r = getenv("FLAKE_ROOT");
        return r && r[0] == '/' ? r : "";
}

char *flake_root_path(const char *path) {
        if (isempty(flake_root()))
                return xstrdup(path);
        return path_join(flake_root(), path);
}

const char *flake_path(FlakePath id) {
        if (!resolved[id]) {
                const char *e = path_table[id].env ? getenv(path_table[id].env) : NULL;
                if (!isempty(e))
                        resolved[id] = xstrdup(e);
                else if (path_table[id].under_root)
                        resolved[id] = flake_root_path(path_table[id].def);
                else
                        resolved[id] = xstrdup(path_table[id].def);
        }
        return resolved[id];
}

char *flake_pilot_path(const char *pilot) {
        return path_join(flake_path(FLAKE_PATH_BINDIR), pilot);
}

const char *flake_home_dir(void) {
        static char *home;
        const char *e = getenv("HOME");

        if (home)
                return home;
        if (path_is_absolute(e))
                home = xstrdup(e);
        else {
                struct passwd *pw = getpwuid(getuid());
                home = xstrdup(pw && pw->pw_dir ? pw->pw_dir : "/");
        }
        return home;
}

const char *flake_user_config_path(void) {
        static char *p;
        const char *e = getenv("FLAKE_USER_CONFIG");

        if (!p)
                p = !isempty(e) ? xstrdup(e) : path_join(flake_home_dir(), ".config/flakes.yml");
        return p;
}

char *flake_vm_registry_dir(bool user) {
        if (user)
                return path_join(flake_home_dir(), ".config/flakes/firecracker");
        return xstrdup(flake_path(FLAKE_PATH_FIRECRACKER_DIR));
}

char *flake_vm_image_dir(bool user, const char *name) {
        _cleanup_free_ char *r = flake_vm_registry_dir(user), *images = path_join(r, "images");
        return path_join(images, name);
}

/* A parent on the way to private state: only root or uid may be able to
 * replace what is in it. Sticky dirs (/tmp) let others add entries but not
 * rename or remove ours. */
static int check_parent(int fd, const char *path, uid_t uid) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot access %s: %m", path);
        if (st.st_uid != 0 && st.st_uid != uid)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s is owned by uid %u, not by root%s, refusing",
                                       path, (unsigned) st.st_uid, uid == 0 ? "" : " or the caller");
        if ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX))
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "%s is writable by other users without the sticky bit, refusing", path);
        return 0;
}

/* The private dir itself, opened with O_PATH: returns a real fd of it. */
static int check_private(int fd, const char *path, uid_t uid) {
        _cleanup_close_ int dfd = -EBADF;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot access %s: %m", path);
        if (st.st_uid != uid)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s is owned by uid %u, not by uid %u, refusing",
                                       path, (unsigned) st.st_uid, (unsigned) uid);
        if (st.st_mode & 0022)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s is writable by other users, refusing", path);
        dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return log_error_errno(errno, "Cannot open %s: %m", path);
        /* Reading is harmless to us, but the names are the user's business. */
        if ((st.st_mode & 0077) && fchmod(dfd, st.st_mode & 07700) < 0)
                return log_error_errno(errno, "Cannot make %s private: %m", path);
        return TAKE_FD(dfd);
}

/* May the caller create an entry in the directory fd? Not where others may
 * write too: whoever comes first would own it (the squatting of /tmp). */
static bool may_create_in(int fd) {
        struct stat st;

        if (getuid() == 0)
                return true;
        return fstat(fd, &st) >= 0 && !(st.st_mode & 0022);
}

int flake_open_private_dir(const char *path, uid_t uid, bool create, mode_t base_mode) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_free_ char *copy = xstrdup(path), *sofar = xstrdup("");
        _cleanup_close_ int fd = -EBADF;
        char *save = NULL;
        size_t n;
        int r;

        if (!path_is_absolute(path))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: not an absolute path", path);
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, ".."))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: '..' is not allowed here", path);
                if (!streq(c, "."))
                        strv_extend(&parts, c);
        }
        n = strv_length(parts);
        if (n == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: not a directory of its own", path);
        assert(parts);

        /* O_PATH: a dir we may not read (another user's) is still checked,
         * and refused by its owner rather than by EACCES. */
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open /: %m");
        r = check_parent(fd, "/", uid);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int child = -EBADF;
                const char *c = parts[i];
                bool last = i == n - 1, made = false;
                /* base_mode is for the base of the private dir only. */
                mode_t mode = last ? 0700 : i == n - 2 ? base_mode : 0755;

                {
                        char *t = xasprintf("%s/%s", sofar, c);
                        free(sofar);
                        sofar = t;
                }

                child = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0 && errno == ENOENT && create) {
                        /* Our own dir may be made in a shared base: if
                         * someone else made it first, its owner tells. */
                        if (!last && !may_create_in(fd))
                                return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                                       "%s does not exist and only root may create it "
                                                       "(systemd-tmpfiles --create does)", sofar);
                        if (mkdirat(fd, c, mode) >= 0)
                                made = true;
                        else if (errno != EEXIST)
                                return log_error_errno(errno, "Cannot create %s: %m", sofar);
                        child = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (child < 0) {
                        if (errno == ENOENT && !create)
                                return -ENOENT;
                        if (errno == ELOOP || errno == ENOTDIR)
                                return log_error_errno(SYNTHETIC_ERRNO(ENOTDIR),
                                                       "%s is not a directory (or a symlink), refusing", sofar);
                        return log_error_errno(errno, "Cannot open %s: %m", sofar);
                }
                if (last) {
                        r = check_private(child, sofar, uid);
                        if (r < 0)
                                return r;
                        close(child);
                        child = r;
                } else {
                        r = check_parent(child, sofar, uid);
                        if (r < 0)
                                return r;
                        /* The umask must not decide the sticky bit of a
                         * shared base; chmod the checked dir, not the name. */
                        if (made && (mode & ~0777)) {
                                _cleanup_close_ int dfd = openat(child, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                                if (dfd < 0 || fchmod(dfd, mode) < 0)
                                        return log_error_errno(errno, "Cannot set the mode of %s: %m", sofar);
                        }
                }
                close(fd);
                fd = TAKE_FD(child);
        }
        return TAKE_FD(fd);
}

/* The built-in /tmp/flakes (or what an original flakes.yml names, which is
 * the same) means "the default place"; any other value is used as given. */
static bool ids_dir_is_default(const char *ids_dir) {
        return streq(ids_dir, flake_path(FLAKE_PATH_IDS_DIR));
}

int flake_instance_state_dir(const char *ids_dir, bool create, char **ret_path) {
        _cleanup_free_ char *path = NULL;
        uid_t uid = getuid();
        mode_t base_mode = 0755;
        const char *xdg;
        int fd;

        if (!ids_dir_is_default(ids_dir)) {
                path = xasprintf("%s/%u", ids_dir, (unsigned) uid);
                base_mode = 01777;      /* a shared base: every user makes his own dir in it */
        } else if (uid == 0) {
                path = xasprintf("%s/ids/0", flake_path(FLAKE_PATH_RUNTIME_DIR));
        } else if (path_is_absolute(xdg = getenv("XDG_RUNTIME_DIR"))) {
                path = path_join(xdg, "flakes");
        } else {
                path = xasprintf("%s/%u", ids_dir, (unsigned) uid);
                base_mode = 01777;
        }

        fd = flake_open_private_dir(path, uid, create, base_mode);
        if (fd < 0)
                return fd;
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return fd;
}

static void add_numeric_dirs(char ***l, const char *base, const char *suffix) {
        _cleanup_strv_free_ char **names = NULL;

        if (dir_list(base, NULL, &names) < 0)
                return;
        STRV_FOREACH(n, names) {
                if (isempty(*n) || strspn(*n, "0123456789") != strlen(*n))
                        continue;
                strv_consume(l, xasprintf("%s %s/%s%s", *n, base, *n, suffix));
        }
}

char **flake_instance_state_dirs_all(const char *ids_dir) {
        char **l = NULL;

        add_numeric_dirs(&l, ids_dir, "");
        if (ids_dir_is_default(ids_dir)) {
                _cleanup_free_ char *ids = path_join(flake_path(FLAKE_PATH_RUNTIME_DIR), "ids");
                _cleanup_free_ char *users = flake_root_path("/run/user");

                add_numeric_dirs(&l, ids, "");
                add_numeric_dirs(&l, users, "/flakes");
        }
        return l;
}
