/* SPDX-License-Identifier: MIT */
#pragma once

/* Every path the project uses comes from here.
 *
 * FLAKE_ROOT=DIR makes every built-in system path relative to DIR (like
 * "systemctl --root"): /etc/flakes.yml is read from DIR/etc/flakes.yml, a
 * flake registered with --app /usr/bin/x gets its link at DIR/usr/bin/x, and
 * so on. Tests and the demo run that way without touching the host. Single
 * paths can also be overridden by their own variable (see flake-ctl(8)). */

#include <stdbool.h>
#include <sys/types.h>

typedef enum FlakePath {
        FLAKE_PATH_CONFIG,            /* /etc/flakes.yml              FLAKE_CONFIG */
        FLAKE_PATH_TEMPLATE_DIR,      /* /etc/flakes                  FLAKE_TEMPLATE_DIR */
        FLAKE_PATH_FLAKES_DIR,        /* /usr/share/flakes            (flakes.yml) */
        FLAKE_PATH_IDS_DIR,           /* /tmp/flakes                  (flakes.yml) */
        FLAKE_PATH_STORAGE_CONF,      /* /etc/flakes/storage.conf     (flakes.yml) */
        FLAKE_PATH_FIRECRACKER_DIR,   /* /var/lib/firecracker         FLAKE_FIRECRACKER_DIR */
        FLAKE_PATH_RUNTIME_DIR,       /* /run/flakes                  FLAKE_RUNTIME_DIR */
        FLAKE_PATH_BINDIR,            /* where the pilots live        FLAKE_BINDIR */
        FLAKE_PATH_LIBEXECDIR,        /* where the helpers live       FLAKE_LIBEXECDIR */
        FLAKE_PATH_SCI,               /* host copy of sci             FLAKE_SCI */
        _FLAKE_PATH_MAX,
} FlakePath;

/* The resolved path (static storage, valid until exit). */
const char *flake_path(FlakePath id);

/* FLAKE_ROOT, or "" when unset. */
const char *flake_root(void);
/* Maps a path as seen on the target system to the path to operate on
 * (prefixes FLAKE_ROOT). Returns a new string. */
char *flake_root_path(const char *path);

/* The pilot binary a flake's app link points to: BINDIR/podman-pilot... */
char *flake_pilot_path(const char *pilot);

/* $HOME, or the passwd entry of the real uid. Static storage. */
const char *flake_home_dir(void);
/* ~/.config/flakes.yml (FLAKE_USER_CONFIG overrides). Static storage. */
const char *flake_user_config_path(void);

/* The VM image registry: FIRECRACKER_DIR (system) or
 * ~/.config/flakes/firecracker (user). New strings. */
char *flake_vm_registry_dir(bool user);
/* <registry>/images/<name> */
char *flake_vm_image_dir(bool user, const char *name);

/* Instance state (podman-pilot's cid and lock files) must live where no
 * other user can squat, rename or replace a directory on the way to it.
 *
 * flake_open_private_dir() opens path component by component from "/" with
 * O_NOFOLLOW|O_DIRECTORY (no symlink anywhere is followed). Every parent
 * must be owned by root or uid and not writable by others unless sticky
 * (like /tmp): then nobody else can swap anything on the path once it is
 * checked, and the path stays as safe as the fd. The last component must be
 * a directory owned by uid and not writable by group or others; read
 * access for others is taken away. With create, missing components are
 * made (the last 0700, its parent base_mode, others 0755), except in a
 * directory others may write to as well, where only root creates (the
 * first user would own it).
 * Returns the fd; -ENOENT quietly when something is missing and create is
 * false; otherwise logs one line naming the directory. */
int flake_open_private_dir(const char *path, uid_t uid, bool create, mode_t base_mode);

/* The caller's (real uid's) instance state directory:
 *   - podman_ids_dir set in flakes.yml to something else than the default
 *     /tmp/flakes: IDS/UID, for every user;
 *   - otherwise root: RUNTIME_DIR/ids/0 (only root can write /run/flakes);
 *   - otherwise $XDG_RUNTIME_DIR/flakes (the user's own, made by logind),
 *     or /tmp/flakes/UID when the caller has no runtime dir.
 * Opened as flake_open_private_dir() does. Returns the fd, the path in
 * ret_path. */
int flake_instance_state_dir(const char *ids_dir, bool create, char **ret_path);

/* Directories that may hold other users' instance state (for root's
 * "flake-ctl podman show"): "UID PATH" strings, unchecked. */
char **flake_instance_state_dirs_all(const char *ids_dir);
