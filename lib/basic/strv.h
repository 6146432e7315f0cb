/* SPDX-License-Identifier: MIT */
#pragma once

/* NULL-terminated string vectors, as in systemd's strv.h. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char * const *l);
bool strv_contains(char * const *l, const char *s);
/* Appends a copy of s; the vector is reallocated. */
void strv_extend(char ***l, const char *s);
/* Appends s itself, taking ownership. */
void strv_consume(char ***l, char *s);
void strv_extend_strv(char ***l, char * const *other);
char **strv_copy(char * const *l);
void strv_sort(char **l);
char *strv_join(char * const *l, const char *sep);
bool strv_equal(char * const *a, char * const *b);

#define STRV_FOREACH(s, l) for (char * const *s = (l); s && *s; s++)
