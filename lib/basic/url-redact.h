/* SPDX-License-Identifier: MIT */
#pragma once

/* Log lines must not carry secrets that URLs may hold: every URL
 * ("scheme://...") in text gets its user info (user:password@) replaced by
 * "***@", its query string by "?***" and its fragment by "#***"; the rest
 * of the text is kept. A URL ends at white space, a quote or the end of the
 * text. Returns a new string; NULL for NULL. */
char *url_redact(const char *text);
