/* SPDX-License-Identifier: MIT */
#pragma once

/* Validation of the names users give us, and their mapping to names other
 * systems accept (systemd unit names, network interface names). */

#include <stdbool.h>

#define FLAKE_INSTANCE_NAME_MAX 64
#define FLAKE_APP_NAME_MAX 200

/* An app name is the basename of the host command: no '/', not "." or "..",
 * no leading '.', no whitespace or control characters, valid UTF-8, and no
 * '@' (which separates the app from the instance in "app@id"). */
bool flake_app_name_is_valid(const char *name);

/* A container image reference as podman takes it (the grammar of
 * containers/image and distribution/reference):
 *   [DOMAIN[:PORT]/]PATH[:TAG][@ALGORITHM:HEX]
 * with lower-case PATH components made of [a-z0-9] joined by '.', '_', "__"
 * or dashes, a TAG of [A-Za-z0-9_.-] (at most 128, not starting with '.' or
 * '-'), and a DOMAIN of host name components. An image ID (hex) is a valid
 * PATH. No transport prefix ("docker://"): callers strip what they accept. */
bool container_image_ref_is_valid(const char *ref);

/* A user name as runtime.runas takes it: 1 to 32 of [A-Za-z0-9_.-] (a
 * trailing '$' allowed, as for Samba machine accounts), not starting with
 * '-' or '.'. A number (a UID without a passwd entry) is allowed. */
bool user_name_is_valid(const char *name);

/* "@NAME" as the launch argument: starts with '@', at most 64 bytes, made of
 * ASCII letters, digits and "@=_-" (the original tool's whitelist). */
bool flake_instance_name_is_valid(const char *name);

/* systemd-escape(1) semantics: '/' becomes '-', everything outside
 * [A-Za-z0-9:_.] (and a leading '.') becomes \xNN. Returns a new string. */
char *unit_name_escape(const char *s);
/* The inverse; returns -EINVAL on malformed escapes. */
int unit_name_unescape(const char *s, char **ret);

/* "flake-vm" + "app@id" -> "flake-vm@app\x40id.service". */
char *unit_name_build(const char *template_prefix, const char *instance, const char *suffix);
