/* SPDX-License-Identifier: MIT */
#pragma once

/* A minimal QEMU Machine Protocol client: what flake-vm needs to save a
 * VM (stop, migrate to a file descriptor, cont). The monitor is the VMM's,
 * on a socket in the instance's private runtime dir. */

#include <json-c/json.h>

typedef struct Qmp {
        int fd;
        char buf[16384];
        size_t n;
} Qmp;

/* Connects (retrying for up to timeout_ms while QEMU comes up), reads the
 * greeting and leaves capability negotiation. */
int qmp_open(Qmp *q, const char *path, int timeout_ms);
void qmp_close(Qmp *q);

/* Runs one command; arguments may be NULL. pass_fd >= 0 is sent along
 * (SCM_RIGHTS), as "getfd" wants it. Events on the way are skipped. Returns
 * 0 with the "return" value in *ret (may be NULL; caller puts it), or
 * -EIO with QEMU's error description in *ret_error (may be NULL). */
int qmp_execute(Qmp *q, const char *command, json_object *arguments, int pass_fd, json_object **ret,
                char **ret_error);
