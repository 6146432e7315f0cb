/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "pull.h"

/* One VM image pull: a KIS archive, or rootfs + kernel (+ initrd). */
typedef struct VmPullRequest {
        const char *name;
        const char *kis_image;
        const char *rootfs;
        const char *kernel;
        const char *initrd;
        const char *sha256;         /* hex; of the archive, or of the rootfs */
        bool force;
        bool user;
} VmPullRequest;

/* Checks the combination of sources (the flake-ctl rules); logs and returns
 * -EINVAL if it is wrong. what names the source of the values ("--kis-image"
 * style options, or a flake's vm.pull keys) for the message. */
int vm_pull_request_check(const VmPullRequest *req, bool from_options);

/* Pulls into the registry; on failure the registry is left as it was. */
int pull_vm(const VmPullRequest *req, const PullOptions *o);
