/* SPDX-License-Identifier: MIT */
#pragma once

/* The TAP device for an instance: "tap-<instance>" when that fits in 15
 * bytes of interface-name-safe characters, else "tap-" + a prefix of the
 * name + a hash of the whole name: deterministic and unique in practice. */
char *tap_name_for_instance(const char *instance);
