/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "strv.h"

/* Reads fd to its end into a NUL-terminated buffer of at most max_size
 * bytes; one byte more is read to notice a larger file (-EFBIG). hint, the
 * expected size, sizes the first allocation. */
static int read_fd_all(int fd, size_t hint, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = (hint == 0 ? 8190 : hint < max_size ? hint : max_size) + 2;

        buf = xmalloc(alloc);
        for (;;) {
                ssize_t n;

                if (size > max_size)
                        return -EFBIG;
                if (alloc - size < 2) {
                        alloc = alloc <= max_size / 2 ? alloc * 2 : max_size + 2;
                        buf = xrealloc(buf, alloc);
                }
                n = read(fd, buf + size, alloc - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_full_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        return read_fd_all(fd, 0, SIZE_MAX / 2, ret, ret_size);
}

static int read_regular_file_flags(const char *path, int flags, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
         * writer forever. The flag has no effect on regular files, and we
         * read nothing else. */
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | flags);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* Devices (/dev/zero, /dev/urandom), FIFOs, sockets and directories
         * never end or are not files at all. */
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uintmax_t) st.st_size > max_size)
                return -EFBIG;
        /* st_size is a hint: the file may grow while we read, and /proc
         * files say 0. */
        return read_fd_all(fd, (size_t) st.st_size, max_size, ret, ret_size);
}

int read_regular_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        return read_regular_file_flags(path, 0, max_size, ret, ret_size);
}

int read_untrusted_file(const char *path, size_t max_size, char **ret) {
        return read_regular_file_flags(path, O_NOFOLLOW, max_size, ret, NULL);
}

static int write_all(int fd, const char *data, size_t size) {
        while (size > 0) {
                ssize_t n = write(fd, data, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                data += n;
                size -= (size_t) n;
        }
        return 0;
}

int write_file_atomic(const char *path, const char *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = xasprintf("%s.XXXXXX", path);
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();

        r = write_all(fd, data, size);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = negative_errno();
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = xstrdup(path);

        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *s = '/';
        }
        if (mkdir(p, mode) < 0) {
                if (errno != EEXIST)
                        return negative_errno();
                if (!is_dir(p))
                        return -ENOTDIR;
        }
        return 0;
}

int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *p = xstrdup(path);
        char *slash = strrchr(p, '/');

        if (!slash || slash == p)
                return 0;
        *slash = 0;
        return mkdir_p(p, mode);
}

static int rm_rf_at(int parent_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r = 0;

        if (unlinkat(parent_fd, name, 0) >= 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return negative_errno();

        fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        fd = -EBADF; /* owned by d now */

        while ((de = readdir(d))) {
                int k;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                k = rm_rf_at(dirfd(d), de->d_name);
                if (k < 0 && r == 0)
                        r = k;
        }
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = negative_errno();
        return r;
}

int rm_rf(const char *path) {
        return rm_rf_at(AT_FDCWD, path);
}

int lock_file_at(int dir_fd, const char *path, int open_flags, int operation) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dir_fd, path, open_flags | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, operation) < 0)
                if (errno != EINTR)
                        return -errno;
        return TAKE_FD(fd);
}

int lock_is_held(const char *path) {
        _cleanup_close_ int fd = lock_file_at(AT_FDCWD, path, O_RDWR | O_NOFOLLOW, LOCK_EX | LOCK_NB);

        if (fd == -EWOULDBLOCK)
                return 1;
        return fd >= 0 || fd == -ENOENT ? 0 : fd;
}

int lock_directory(const char *path) {
        return lock_file_at(AT_FDCWD, path, O_RDONLY | O_DIRECTORY, LOCK_EX);
}

bool path_exists(const char *path) {
        struct stat st;
        return lstat(path, &st) >= 0;
}

bool is_dir(const char *path) {
        struct stat st;
        return stat(path, &st) >= 0 && S_ISDIR(st.st_mode);
}

int dir_list(const char *dir, const char *suffix, char ***ret) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **l = xmalloc(sizeof(char *));
        size_t n = 0, alloc = 1;
        struct dirent *de;

        d = opendir(dir);
        if (!d)
                return negative_errno();
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de)
                        break;
                if (de->d_name[0] == '.')
                        continue;
                if (suffix && !endswith(de->d_name, suffix))
                        continue;
                /* Doubling: strv_extend() walks the list each time, and a
                 * flakes dir may hold thousands of entries. */
                if (n + 2 > alloc) {
                        alloc = alloc * 2 + 2;
                        l = xrealloc(l, alloc * sizeof(char *));
                }
                l[n++] = xstrdup(de->d_name);
                l[n] = NULL;
        }
        if (errno)
                return negative_errno();
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

char *path_join(const char *a, const char *b) {
        size_t la = strlen(a);
        while (la > 1 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        return xasprintf("%.*s/%s", (int) la, a, b);
}

bool path_is_absolute(const char *p) {
        return p && p[0] == '/';
}

bool path_is_normalized(const char *p) {
        if (!path_is_absolute(p))
                return false;
        if (streq(p, "/"))
                return true;
        for (const char *c = p + 1;; ) {
                size_t n = strcspn(c, "/");

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (c[n] == 0)
                        return true;
                c += n + 1;
        }
}

char *path_basename(const char *p) {
        size_t l = strlen(p);
        const char *s;

        while (l > 1 && p[l - 1] == '/')
                l--;
        s = memrchr(p, '/', l);
        if (!s || (s == p && l == 1))
                return xstrndup(p, l);
        return xstrndup(s + 1, l - (size_t) (s + 1 - p));
}
