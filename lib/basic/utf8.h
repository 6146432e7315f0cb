/* SPDX-License-Identifier: MIT */
#pragma once

/* Text that users give us: checked before it goes into a registration (the
 * YAML emitter and JSON need valid UTF-8; a newline or an escape sequence
 * has no business in a name), and escaped before it goes onto a terminal,
 * so that one message stays one line and cannot drive the terminal. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the UTF-8 character at s (at most n bytes): returns its length
 * (1 to 4) and stores the code point, or -EILSEQ for a byte that does not
 * start a valid sequence (truncated, overlong, surrogate, above U+10FFFF). */
int utf8_decode(const char *s, size_t n, uint32_t *ret);

bool utf8_is_valid(const char *s);

/* C0 controls, DEL and the C1 controls (U+0080..U+009F: some terminals take
 * U+009B as CSI). */
static inline bool unichar_is_control(uint32_t c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* 0 if s is valid UTF-8 without control characters, -EILSEQ if it is not
 * UTF-8, -EBADMSG if it contains a control character (newline, tab, ...). */
int text_check(const char *s);

/* s for display: control characters as C escapes (\n, \t, \x1b, \u0085),
 * bytes that are not UTF-8 as \xNN, the rest as it is. Not reversible (a
 * backslash stays a backslash): for messages, never for data. Returns a new
 * string; s == NULL gives NULL. */
char *text_escape(const char *s);

/* The same, but NULL when s needs no escaping (the common case, no copy). */
char *text_escape_if_needed(const char *s);
