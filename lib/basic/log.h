/* SPDX-License-Identifier: MIT */
#pragma once

/* Logging: one call logs once, to every target that is switched on.
 *
 *  - stderr: "<ident>: message" for the caller of a command line tool;
 *  - kmsg:   for the system generator, which runs before journald;
 *  - journal: structured entries, carrying the context fields set with
 *    log_set_context() (FLAKE_NAME=, FLAKE_ENGINE=, FLAKE_INSTANCE=).
 *
 * Control characters and bytes that are not UTF-8 are shown escaped (\n,
 * \x1b, \xff; see text_escape()), so one call is always one line.
 *
 * The log_*_errno() variants return the negative errno they were given, so
 * "return log_error_errno(r, ...);" logs and propagates in one step. */

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_STDERR  = 1 << 0,
        LOG_TARGET_KMSG    = 1 << 1,
        LOG_TARGET_JOURNAL = 1 << 2,
} LogTarget;

/* Is stderr the journal (StandardError=journal of the service we run in)?
 * Compares stderr with the device and inode in $JOURNAL_STREAM
 * (systemd.exec(5)): a process whose stderr was redirected elsewhere, e.g.
 * a runner spawned with a log file, inherits the variable but not the
 * stream. Helpers log with LOG_TARGET_JOURNAL then, so that their entries
 * carry the FLAKE_* fields. */
bool log_stderr_is_journal(void);

/* ident is kept by reference. Reads FLAKE_LOG_LEVEL (error, warning, notice,
 * info, debug) and PILOT_DEBUG (any value: debug) from the environment. */
void log_setup(const char *ident, LogTarget targets);
void log_set_targets(LogTarget targets);
LogTarget log_get_targets(void);
void log_set_max_level(int level);
int log_get_max_level(void);
/* Messages at or below this level also go to stderr when the journal is a
 * target (pilots: errors on the terminal, the rest only in the journal). */
void log_set_console_level(int level);
int log_level_from_string(const char *s);

/* Extra journal fields ("KEY=value"), copied. NULL entries are skipped. */
void log_set_context(const char *name, const char *engine, const char *instance);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *fmt, ...) _printf_(6, 7);

/* An error that was decided here rather than read from errno:
 * SYNTHETIC_ERRNO(EINVAL). It logs and returns -EINVAL like any other, but
 * the journal entry carries no ERRNO= field, since no call failed with it
 * (as in systemd). Spelled with the positive constant, as errno values are. */
#define SYNTHETIC_ERRNO_FLAG (1 << 30)
#define SYNTHETIC_ERRNO(e) (abs(e) | SYNTHETIC_ERRNO_FLAG)
#define ERRNO_VALUE(e) (abs(e) & ~SYNTHETIC_ERRNO_FLAG)
#define ERRNO_IS_SYNTHETIC(e) ((abs(e) & SYNTHETIC_ERRNO_FLAG) != 0)

/* Returns -ERRNO_VALUE(error), and visibly negative (-EIO for an error of
 * 0, which is a bug of the caller), so that "return log_error_errno(...)"
 * is an error return to readers and to gcc -fanalyzer alike. */
#define log_full_errno(level, error, ...)                                                        \
        ({                                                                                       \
                int _e_ = log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__); \
                _e_ < 0 ? _e_ : -EIO;                                                            \
        })
#define log_full(level, ...) (void) log_internal((level), 0, __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)
