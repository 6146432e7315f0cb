/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Reads a whole file; ret_size may be NULL. */
int read_full_file(const char *path, char **ret, size_t *ret_size);

/* Reads a whole file that other users may have put in place (registrations,
 * configuration): never blocks on a FIFO, and returns -EBADFD for anything
 * but a regular file (devices such as /dev/zero, FIFOs, sockets,
 * directories) and -EFBIG for more than max_size bytes, instead of reading
 * forever. The text is NUL-terminated; ret_size may be NULL. */
int read_regular_file(const char *path, size_t max_size, char **ret, size_t *ret_size);

/* The same for a file in a directory a less privileged user writes (a VM's
 * runtime dir is its VMM user's): the last component is not followed
 * either (-ELOOP for a symlink), so a link cannot make us read our own
 * secrets on that user's behalf. */
int read_untrusted_file(const char *path, size_t max_size, char **ret);

/* Writes data to a temp file next to path, fsyncs it and renames it over
 * path, so readers see either the old or the new content, never half. */
int write_file_atomic(const char *path, const char *data, size_t size, mode_t mode);

int mkdir_p(const char *path, mode_t mode);
/* Creates the parents of path (not path itself). */
int mkdir_parents(const char *path, mode_t mode);

/* Removes path and, if it is a directory, everything below it; does not
 * follow symlinks. A missing path is not an error. */
int rm_rf(const char *path);

/* The one way to take a flock(): opens path (relative to dir_fd; with
 * O_CLOEXEC and open_flags, created 0600 with O_CREAT: pass O_NOFOLLOW
 * where a link must not be followed) and flock()s it with operation,
 * retrying on EINTR. Returns the fd, -EWOULDBLOCK with LOCK_NB when another
 * process holds it, or another negative errno (not logged). */
int lock_file_at(int dir_fd, const char *path, int open_flags, int operation);
/* Whether another process holds a flock() on path (a LOCK_NB attempt fails
 * with EWOULDBLOCK): 1 if so, 0 if not or there is no such file, -errno when
 * it cannot be told (-EACCES: not ours to open; O_NOFOLLOW). */
int lock_is_held(const char *path);
/* Takes an exclusive flock() on a directory (blocking). Returns the fd. */
int lock_directory(const char *path);

bool path_exists(const char *path);      /* lstat(): links count as existing */
bool is_dir(const char *path);           /* stat(): follows links */

/* Sorted names in dir that end with suffix (NULL: all but dot files). */
int dir_list(const char *dir, const char *suffix, char ***ret);

char *path_join(const char *a, const char *b);
bool path_is_absolute(const char *p);
/* Absolute, without "." or ".." components, "//" or a trailing "/" (as
 * systemd's path_is_normalized(), but absolute only): what such a path names
 * does not depend on the links or directories it passes through. */
bool path_is_normalized(const char *p);
/* Last component, without trailing slashes: a new string. */
char *path_basename(const char *p);
