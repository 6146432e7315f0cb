/* SPDX-License-Identifier: MIT */
#pragma once

/* sci is static and small: of lib/ it links only the agent protocol (no
 * libsystemd, no libyaml).
 * These are the few helpers it needs. */

#include <stdbool.h>
#include <stdio.h>

#define SCI_IDENT "sci"

extern bool sci_debug;

#define sci_log(...) do { fprintf(stderr, SCI_IDENT ": " __VA_ARGS__); fputc('\n', stderr); } while (0)
#define sci_dbg(...) do { if (sci_debug) sci_log(__VA_ARGS__); } while (0)

/* Splits a command line the way a POSIX shell splits words: blanks separate,
 * single quotes keep everything, double quotes keep all but \" \\ \$ \`,
 * a backslash outside quotes escapes the next character. Returns a
 * NULL-terminated vector, or NULL on unbalanced quotes or an empty line. */
char **sci_shell_split(const char *s);
void sci_strv_free(char **l);

/* Parses the kernel command line (as in /proc/cmdline) and calls cb for each
 * "key=value" or "key" word; the value has its surrounding quotes removed as
 * the kernel does. */
void sci_cmdline_foreach(const char *cmdline, void (*cb)(const char *key, const char *value, void *userdata),
                         void *userdata);
