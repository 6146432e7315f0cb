/* SPDX-License-Identifier: MIT */
#pragma once

/* Text from other users (file names, registrations) shown on a terminal:
 * control characters (C0, DEL, and C1 as UTF-8 encodes them) become \xNN,
 * a backslash becomes \\, so that no such text can move the cursor, change
 * colours or the window title, or hide what it is. Returns a new string;
 * NULL for NULL. */
char *escape_for_display(const char *s);
