/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nfs-volume.h"

const char *nfs_volume_path_problem(const char *path, bool guest) {
        if (!path || path[0] != '/')
                return "is not an absolute path";
        for (const char *p = path; *p; p++) {
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                        return "contains whitespace or a control character";
                if (*p == NFS_VOLUME_DELIMITER)
                        return "contains ','";
        }
        /* Mount points and exports are plain paths: "/a/../b" would mount
         * somewhere else than the configuration says. */
        for (const char *p = path; (p = strstr(p, "/..")); p++)
                if (p[3] == '/' || p[3] == 0)
                        return "contains a '..' component";
        if (!guest)
                return NULL;
        if (strspn(path, "/") == strlen(path))
                return "is the root directory";
        if (strncmp(path, "/mnt", 4) == 0 && (path[4] == '/' || path[4] == 0))
                return "is under /mnt, where the image's own root is kept in the guest";
        return NULL;
}

int nfs_volume_parse(char *entry, NfsVolume *ret, const char **ret_part, const char **ret_problem) {
        char *colon = strchr(entry, ':'), *last = strrchr(entry, ':');
        struct in_addr a;

        *ret_part = NULL;
        if (!colon || colon == last) {
                *ret_problem = "is not SERVER:HOST_PATH:GUEST_PATH";
                return -EINVAL;
        }
        *colon = 0;
        *last = 0;
        if ((size_t) (colon - entry) >= sizeof(ret->server) || inet_pton(AF_INET, entry, &a) != 1) {
                *ret_part = "server";
                *ret_problem = "is not an IPv4 address";
                return -EINVAL;
        }
        *ret_problem = nfs_volume_path_problem(colon + 1, false);
        if (*ret_problem) {
                *ret_part = "host path";
                return -EINVAL;
        }
        *ret_problem = nfs_volume_path_problem(last + 1, true);
        if (*ret_problem) {
                *ret_part = "guest path";
                return -EINVAL;
        }
        memcpy(ret->server, entry, (size_t) (colon - entry) + 1);
        ret->host_path = colon + 1;
        ret->guest_path = last + 1;
        return 0;
}

const char *nfs_volume_list_problem(const char *value, char *buf, size_t size) {
        const char *p = value;

        if (!value || !*value) {
                snprintf(buf, size, "lists no volume");
                return buf;
        }
        for (;;) {
                size_t l = strcspn(p, ",");
                char entry[4096];
                const char *part, *problem;
                NfsVolume v;

                if (l >= sizeof(entry)) {
                        snprintf(buf, size, "an entry is longer than %zu bytes", sizeof(entry) - 1);
                        return buf;
                }
                memcpy(entry, p, l);
                entry[l] = 0;
                if (nfs_volume_parse(entry, &v, &part, &problem) < 0) {
                        snprintf(buf, size, "'%.*s': %s%s%s", (int) l, p, part ?: "", part ? " " : "", problem);
                        return buf;
                }
                if (!p[l])
                        return NULL;
                p += l + 1;
        }
}
