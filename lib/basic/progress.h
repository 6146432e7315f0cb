/* SPDX-License-Identifier: MIT */
#pragma once

/* The %progress spinner of the pilots: "<frame> TEXT..." redrawn on stderr
 * while the pilot prepares a launch, then replaced by "TEXT... done" or
 * "TEXT... failed". Only on a terminal: with stderr redirected nothing is
 * written (the journal has the pilot's events). The spinner runs in a
 * thread of its own, since the pilot spends the time blocked in waitpid(). */

#include <stdbool.h>

typedef struct Progress Progress;

/* Returns NULL (and shows nothing) when stderr is not a terminal. */
Progress *progress_start(const char *text);
/* Stops the spinner and prints the final line; NULL is fine. */
void progress_finish(Progress *p, bool success);
