/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* We send CODE_FILE=, CODE_LINE= and CODE_FUNC= of our caller ourselves;
 * without this, sd_journal_sendv() is a macro adding log.c's as well. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"
#include "utf8.h"

static const char *log_ident = "flake";
static LogTarget log_targets = LOG_TARGET_STDERR;
static int log_max_level = LOG_INFO;
static int log_console_level = LOG_WARNING;
static char *context_fields[3];
static int kmsg_fd = -EBADF;

static const char * const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
        [LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcasecmp(s, level_names[i]) == 0)
                        return (int) i;
        /* env_logger spellings used by the original tool */
        if (strcasecmp(s, "warn") == 0)
                return LOG_WARNING;
        if (strcasecmp(s, "trace") == 0)
                return LOG_DEBUG;
        return -EINVAL;
}

void log_setup(const char *ident, LogTarget targets) {
        const char *e;

        log_ident = ident;
        log_targets = targets;

        e = getenv("FLAKE_LOG_LEVEL");
        if (e) {
                int l = log_level_from_string(e);
                if (l >= 0)
                        log_max_level = l;
        }
        if (getenv("PILOT_DEBUG")) {
                log_max_level = LOG_DEBUG;
                log_console_level = LOG_DEBUG;
        }
}

bool log_stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_set_targets(LogTarget targets) { log_targets = targets; }
LogTarget log_get_targets(void) { return log_targets; }
void log_set_max_level(int level) { log_max_level = level; }
int log_get_max_level(void) { return log_max_level; }
void log_set_console_level(int level) { log_console_level = level; }

void log_set_context(const char *name, const char *engine, const char *instance) {
        const char *keys[] = { "FLAKE_NAME", "FLAKE_ENGINE", "FLAKE_INSTANCE" };
        const char *values[] = { name, engine, instance };

        for (size_t i = 0; i < ELEMENTSOF(context_fields); i++) {
                free(context_fields[i]);
                context_fields[i] = values[i] ? xasprintf("%s=%s", keys[i], values[i]) : NULL;
        }
}

static void write_kmsg(int level, const char *msg) {
        char buf[2048];
        int n;

        if (kmsg_fd < 0)
                kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (kmsg_fd < 0) {
                fprintf(stderr, "%s: %s\n", log_ident, msg);
                return;
        }
        n = snprintf(buf, sizeof(buf), "<%d>%s[%d]: %s\n", level, log_ident, (int) getpid(), msg);
        if (n > 0)
                (void) !write(kmsg_fd, buf, (size_t) n < sizeof(buf) ? (size_t) n : sizeof(buf) - 1);
}

static void write_journal(int level, int error, const char *file, int line, const char *func,
                          const char *msg) {
        _cleanup_free_ char *m = xasprintf("MESSAGE=%s", msg);
        _cleanup_free_ char *p = xasprintf("PRIORITY=%d", level);
        _cleanup_free_ char *id = xasprintf("SYSLOG_IDENTIFIER=%s", log_ident);
        _cleanup_free_ char *cf = xasprintf("CODE_FILE=%s", file);
        _cleanup_free_ char *cl = xasprintf("CODE_LINE=%d", line);
        _cleanup_free_ char *fn = xasprintf("CODE_FUNC=%s", func);
        _cleanup_free_ char *en = error ? xasprintf("ERRNO=%d", error) : NULL;
        struct iovec iov[10];
        size_t n = 0;

#define ADD(s) iov[n++] = (struct iovec) { .iov_base = (s), .iov_len = strlen(s) }
        ADD(m); ADD(p); ADD(id); ADD(cf); ADD(cl); ADD(fn);
        if (en)
                ADD(en);
        for (size_t i = 0; i < ELEMENTSOF(context_fields); i++)
                if (context_fields[i])
                        ADD(context_fields[i]);
#undef ADD
        /* No journal (no systemd, a container, CI): nothing to do about it. */
        (void) sd_journal_sendv(iov, (int) n);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *fmt, ...) {
        _cleanup_free_ char *escaped = NULL;
        char buf[2048];
        const char *msg = buf;
        int saved = errno;
        bool synthetic = ERRNO_IS_SYNTHETIC(error);
        va_list ap;

        error = ERRNO_VALUE(error);
        if (level > log_max_level)
                return -error;

        /* Allow %m in messages, referring to the error passed in. */
        errno = error;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        /* Messages carry names, paths and values from users and files: a
         * newline in one must not split the message, an escape sequence
         * must not reach the terminal, and the journal wants UTF-8. */
        escaped = text_escape_if_needed(buf);
        if (escaped)
                msg = escaped;

        if (log_targets & LOG_TARGET_JOURNAL)
                write_journal(level, synthetic ? 0 : error, file, line, func, msg);
        if (log_targets & LOG_TARGET_KMSG)
                write_kmsg(level, msg);
        if ((log_targets & LOG_TARGET_STDERR) &&
            (!(log_targets & LOG_TARGET_JOURNAL) || level <= log_console_level))
                fprintf(stderr, "%s: %s\n", log_ident, msg);

        errno = saved;
        return -error;
}
