/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "bus-util.h"
#include "compiler.h"
#include "fileio.h"
#include "launch-pull.h"
#include "log.h"
#include "names.h"
#include "paths.h"
#include "strv.h"
#include "time-util.h"

/* The unit's entries; with ident and instance also the program's own
 * entries for that instance (SYSLOG_IDENTIFIER=, FLAKE_INSTANCE=): journald
 * finds a sender's unit from its cgroup, which a process that exits right
 * after logging may no longer have, so the unit match alone can miss its
 * last lines, the ones that matter. */
static sd_journal *unit_journal_open(const char *unit, bool user, const char *ident, const char *instance) {
        _cleanup_free_ char *match = xasprintf("%s=%s", user ? "_SYSTEMD_USER_UNIT" : "_SYSTEMD_UNIT", unit);
        _cleanup_free_ char *m_ident = ident ? xasprintf("SYSLOG_IDENTIFIER=%s", ident) : NULL;
        _cleanup_free_ char *m_instance = instance ? xasprintf("FLAKE_INSTANCE=%s", instance) : NULL;
        sd_journal *j = NULL;

        if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | (user ? SD_JOURNAL_CURRENT_USER : SD_JOURNAL_SYSTEM)) < 0)
                return NULL;
        if (sd_journal_add_match(j, match, 0) < 0 ||
            (ident && instance &&
             (sd_journal_add_disjunction(j) < 0 || sd_journal_add_match(j, m_ident, 0) < 0 ||
              sd_journal_add_match(j, m_instance, 0) < 0))) {
                sd_journal_close(j);
                return NULL;
        }
        return j;
}

static char *entry_message(sd_journal *j) {
        const void *d;
        size_t l;

        if (sd_journal_get_data(j, "MESSAGE", &d, &l) < 0)
                return NULL;
        return xstrndup((const char *) d + strlen("MESSAGE="), l - strlen("MESSAGE="));
}

static char *journal_last_error(const char *unit, bool user, const char *ident, const char *instance,
                                uint64_t since) {
        sd_journal *j = unit_journal_open(unit, user, ident, instance);
        char *found = NULL;

        if (!j)
                return NULL;
        /* The unit's last line may still be on its way to journald when
         * the unit has failed: wait for it a little. */
        for (int attempt = 0; attempt < 3 && !found; attempt++) {
                if (attempt > 0)
                        (void) sd_journal_wait(j, 200 * 1000);
                if (sd_journal_seek_tail(j) < 0)
                        break;
                while (!found && sd_journal_previous(j) > 0) {
                        const void *d;
                        size_t l;
                        uint64_t t;

                        if (sd_journal_get_realtime_usec(j, &t) < 0 || t < since)
                                break;
                        if (sd_journal_get_data(j, "PRIORITY", &d, &l) < 0 || l != strlen("PRIORITY=3") ||
                            ((const char *) d)[l - 1] > '3')
                                continue;
                        found = entry_message(j);
                }
        }
        sd_journal_close(j);
        return found;
}

char *unit_journal_last_error(const char *unit, bool user, uint64_t since) {
        return journal_last_error(unit, user, NULL, NULL, since);
}

/* ---- under systemd ---- */

typedef struct PullUnit {
        sd_bus *bus;
        char *unit;
        char *path;
        bool user;
} PullUnit;

static void pull_unit_done(PullUnit *u) {
        sd_bus_flush_close_unref(u->bus);
        free(u->unit);
        free(u->path);
}

/* 1: done and active (pulled), 0: still running, -EIO: failed. */
static int pull_unit_poll(PullUnit *u) {
        _cleanup_free_ char *active = NULL;
        sd_bus_message *reply = NULL;
        uint32_t job_id = 0;
        const char *job_path;
        int r;

        if (sd_bus_get_property(u->bus, "org.freedesktop.systemd1", u->path, "org.freedesktop.systemd1.Unit",
                                "Job", NULL, &reply, "(uo)") >= 0)
                (void) sd_bus_message_read(reply, "(uo)", &job_id, &job_path);
        sd_bus_message_unref(reply);
        if (job_id != 0)
                return 0;
        r = sd_bus_get_property_string(u->bus, "org.freedesktop.systemd1", u->path, "org.freedesktop.systemd1.Unit",
                                       "ActiveState", NULL, &active);
        if (r < 0)
                return r;
        if (streq(active, "active"))
                return 1;
        if (streq(active, "activating") || streq(active, "reloading"))
                return 0;
        return -EIO;
}

/* Prints what the unit logged since the cursor position; the journal is
 * positioned after the last entry shown. */
static void follow_journal(sd_journal *j) {
        /* Notice what was appended since the last look. */
        (void) sd_journal_process(j);
        while (sd_journal_next(j) > 0) {
                _cleanup_free_ char *m = entry_message(j);
                if (m)
                        fprintf(stderr, "%s\n", m);
        }
}

/* -ENOENT (quietly) when the manager has no flake-pull@: run it ourselves. */
static int pull_via_manager(const char *instance, bool user, bool progress) {
        _cleanup_(pull_unit_done) PullUnit u = { .user = user };
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_journal *j = NULL;
        uint64_t since = now(CLOCK_REALTIME);
        const char *p;
        bool active;
        int r;

        if (getenv("FLAKE_NO_SYSTEMD"))
                return -ENOENT;
        r = bus_open_manager(user, &u.bus);
        if (r < 0) {
                log_debug_errno(r, "No service manager bus, running flake-pull directly: %m");
                return -ENOENT;
        }
        u.unit = unit_name_build("flake-pull", instance, ".service");

        r = sd_bus_call_method(u.bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "LoadUnit", &e, &reply, "s", u.unit);
        if (r >= 0 && sd_bus_message_read(reply, "o", &p) >= 0)
                u.path = xstrdup(p);
        sd_bus_message_unref(reply);
        reply = NULL;
        if (!u.path) {
                log_debug("%s: %s", u.unit, e.message ?: strerror(-r));
                sd_bus_error_free(&e);
                return -ENOENT;
        }
        {
                _cleanup_free_ char *load = NULL;
                if (sd_bus_get_property_string(u.bus, "org.freedesktop.systemd1", u.path,
                                               "org.freedesktop.systemd1.Unit", "LoadState", NULL, &load) >= 0 &&
                    !streq(load, "loaded")) {
                        log_debug("%s: load state %s, running flake-pull directly", u.unit, load);
                        return -ENOENT;
                }
        }

        if (progress) {
                j = unit_journal_open(u.unit, user, "flake-pull", instance);
                if (j && sd_journal_seek_realtime_usec(j, since) < 0) {
                        sd_journal_close(j);
                        j = NULL;
                }
        }

        /* A flake-pull@ that succeeded before stays active
         * (RemainAfterExit=): a start would do nothing, while the image has
         * gone missing since. It is restarted then, alone: a restart
         * propagates to the units that require it, and flake-vm@ does. */
        active = pull_unit_poll(&u) > 0;
        r = sd_bus_call_method(u.bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", active ? "RestartUnit" : "StartUnit", &e, NULL,
                               "ss", u.unit, active ? "ignore-dependencies" : "replace");
        if (r < 0) {
                log_error("%s: cannot start %s: %s", instance, u.unit, e.message ?: strerror(-r));
                sd_bus_error_free(&e);
                sd_journal_close(j);
                return -EIO;
        }

        for (;;) {
                if (j)
                        follow_journal(j);
                r = pull_unit_poll(&u);
                if (r != 0)
                        break;
                usleep(100 * 1000);
        }
        if (j) {
                /* The last lines may still be on their way to journald. */
                (void) sd_journal_wait(j, 200 * 1000);
                follow_journal(j);
                sd_journal_close(j);
        }
        if (r > 0)
                return 0;

        {
                _cleanup_free_ char *m = journal_last_error(u.unit, user, "flake-pull", instance, since);
                const char *uflag = user ? "--user " : "";

                if (m)
                        log_error("%s: pulling its images failed: %s (journalctl %s-u %s)", instance, m, uflag, u.unit);
                else
                        log_error("%s: pulling its images failed, see: journalctl %s-u %s", instance, uflag, u.unit);
        }
        return -EIO;
}

/* ---- without systemd ---- */

static char *flake_pull_path(void) {
        const char *d = flake_path(FLAKE_PATH_LIBEXECDIR);
        char *p = path_join(d, "flake-pull");

        if (access(p, X_OK) == 0)
                return p;
        free(p);
        /* A build tree keeps it in its own directory. */
        return xasprintf("%s/pull/flake-pull", d);
}

/* The last non-empty line of s (modified in place), without flake-pull's
 * own "flake-pull: " prefix. */
static const char *last_line(char *s) {
        const char *line = NULL;

        for (char *p = s, *e; p && *p; p = e ? e + 1 : NULL) {
                e = strchr(p, '\n');
                if (e)
                        *e = 0;
                if (*p)
                        line = p;
        }
        if (line && startswith(line, "flake-pull: "))
                line += strlen("flake-pull: ");
        return line;
}

static int pull_directly(const char *instance, bool progress) {
        _cleanup_free_ char *pull = flake_pull_path(), *out = NULL;
        _cleanup_close_ int null = -EBADF;
        int pipefd[2] = { -EBADF, -EBADF }, status;
        pid_t pid;

        null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0)
                return log_error_errno(errno, "Cannot open /dev/null: %m");
        if (!progress && pipe2(pipefd, O_CLOEXEC) < 0)
                return log_error_errno(errno, "Cannot create a pipe: %m");

        pid = fork();
        if (pid < 0) {
                if (!progress) {
                        close(pipefd[0]);
                        close(pipefd[1]);
                }
                return log_error_errno(errno, "Cannot fork: %m");
        }
        if (pid == 0) {
                sigset_t none;
                /* Its output (progress included) never reaches our stdout:
                 * that is the app's. */
                int out_fd = progress ? STDERR_FILENO : pipefd[1];

                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                if (dup2(null, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
                    dup2(out_fd, STDERR_FILENO) < 0)
                        _exit(127);
                execl(pull, "flake-pull", "flake", instance, (char *) NULL);
                fprintf(stderr, "flake-pull: cannot run %s: %s\n", pull, strerror(errno));
                _exit(127);
        }
        if (!progress) {
                FILE *f;
                size_t n = 0;

                close(pipefd[1]);
                f = fdopen(pipefd[0], "r");
                if (f) {
                        /* Everything it says, for the last line only. */
                        IGNORE_RESULT(getdelim(&out, &n, 0, f)); /* nothing said: out stays NULL */
                        fclose(f);
                } else
                        close(pipefd[0]);
        }
        if (waitpid(pid, &status, 0) < 0)
                return log_error_errno(errno, "Cannot wait for flake-pull: %m");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;

        {
                const char *line = out ? last_line(out) : NULL;

                if (line)
                        log_error("%s: pulling its images failed: %s", instance, line);
                else if (WIFEXITED(status))
                        log_error("%s: pulling its images failed (flake-pull exit status %d)", instance,
                                  WEXITSTATUS(status));
                else
                        log_error("%s: pulling its images failed (flake-pull killed by signal %d)", instance,
                                  WTERMSIG(status));
        }
        return -EIO;
}

int launch_pull(const char *instance, bool user, bool progress) {
        int r;

        r = pull_via_manager(instance, user, progress);
        if (r != -ENOENT)
                return r;
        return pull_directly(instance, progress);
}
