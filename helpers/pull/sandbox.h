/* SPDX-License-Identifier: MIT */
#pragma once

/* Running a parser of untrusted data (a downloaded filesystem image) in a
 * child process that can do nothing but compute on the file descriptors it
 * is handed:
 *   - every other descriptor is closed (stderr stays, for its one error
 *     line);
 *   - no capabilities: the bounding set is emptied where we may (it needs
 *     CAP_SETPCAP), ambient, inheritable, permitted and effective are
 *     cleared, and no_new_privs is set;
 *   - a seccomp allow-list (libseccomp): reading, writing, seeking and
 *     syncing descriptors it already has, memory management without
 *     PROT_EXEC, clocks, random numbers, exiting. No open(), no socket(), no
 *     exec(), no fork(); anything else fails with EPERM (ioctl with
 *     ENOTTY, as on a regular file), so a surprised library reports an
 *     error instead of the child dying without a word.
 * The parent waits and maps the status back to a negative errno. */

/* Calls fn(fds, userdata) in the sandboxed child. fds[i] are dup'ed to 3+i
 * in the child, fn sees the new numbers. fn returns 0 or a negative errno,
 * and logs its own error (once): the parent logs only what the child could
 * not (a crash, a signal). Returns fn's result. */
int sandbox_run(const char *what, const int *fds, size_t n_fds, int (*fn)(const int *fds, void *userdata), void *userdata);
