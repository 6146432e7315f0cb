/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bus-util.h"
#include "fileio.h"
#include "launch-pull.h"
#include "log.h"
#include "names.h"
#include "paths.h"
#include "strv.h"
#include "time-util.h"
#include "utf8.h"
#include "vm-control.h"
#include "vm-runner.h"

static sd_bus *bus = NULL;
static pid_t runner_pid = 0;

bool vm_is_running(const VmInstance *i) {
        return vm_instance_in_use(i->runtime_dir);
}

static char *unit_name(const VmInstance *i) {
        return unit_name_build("flake-vm", i->name, ".service");
}

/* The runner logged why it failed; the caller of the pilot should see that
 * one line too: from the unit's journal under systemd, else from the log
 * file the console and the runner's messages went to. */
static void report_runner_failure(const VmInstance *i, bool via_bus, uint64_t since) {
        _cleanup_free_ char *log = NULL, *u = NULL, *m = NULL;
        const char *line = NULL;

        if (via_bus) {
                u = unit_name(i);
                m = unit_journal_last_error(u, i->user, since);
                if (m)
                        /* The runner's lines start with the instance name. */
                        log_error("%s (journalctl %s-u %s)", m, i->user ? "--user " : "", u);
                else
                        log_error("%s: the VM did not start, see: journalctl %s-u %s", i->name, i->user ? "--user " : "", u);
                return;
        }
        if (read_full_file(i->log_path, &log, NULL) < 0) {
                log_error("%s: the VM did not start", i->name);
                return;
        }
        for (char *p = log, *e; p && *p; p = e ? e + 1 : NULL) {
                e = strchr(p, '\n');
                if (e)
                        *e = 0;
                /* The console may share the line (no newline at its end). */
                const char *m2 = strstr(p, "flake-vm: ");
                while (m2 && strstr(m2 + 1, "flake-vm: "))
                        m2 = strstr(m2 + 1, "flake-vm: ");
                if (m2)
                        line = m2 + strlen("flake-vm: ");
        }
        if (line)
                log_error("%s", line);
        else
                log_error("%s: the VM did not start, see %s", i->name, i->log_path);
}

/* What the runner warned about while starting the VM (the fallback from
 * KVM to TCG): the caller who waited for the (slow) boot should know why.
 * On the terminal although the pilot's console level is errors only: the
 * runner already put it in its journal or log file. */
static void report_runner_warning(const VmInstance *i) {
        _cleanup_free_ char *p = path_join(i->runtime_dir, VM_WARNING_FILE), *w = NULL, *e = NULL;

        /* The VMM user's file (with the VMM's own output in it): a link or
         * a FIFO is not read, and nothing in it drives the terminal. */
        if (read_untrusted_file(p, 4096, &w) < 0 || isempty(w))
                return;
        e = text_escape(w);
        fprintf(stderr, "firecracker-pilot: warning: %s\n", e);
}

static int runner_status_to_exit(const VmInstance *i, int status) {
        switch (status) {
        case RUNNER_EXIT_CONFIG:
                return PILOT_EXIT_FAILURE;
        case RUNNER_EXIT_NO_VMM:
        case RUNNER_EXIT_VMM_FAILED:
                return PILOT_EXIT_VMM;
        case RUNNER_EXIT_NO_AGENT:
                return PILOT_EXIT_AGENT;
        case RUNNER_EXIT_NO_NETWORK:
                return PILOT_EXIT_NETWORK;
        default:
                log_error("%s: the VM runner failed (status %d)", i->name, status);
                return PILOT_EXIT_VMM;
        }
}

/* The manager of the flake's units: the user's for a user flake, the
 * system's otherwise. A non-root caller of a system flake asks the system
 * manager too: polkit lets members of group flake start and stop flake-vm@
 * (50-flake-pilot.rules), and only root may write the system flake's
 * runtime and storage dirs that the runner uses. */
static int open_bus(const VmInstance *i) {
        int r;

        if (bus)
                return 0;
        if (getenv("FLAKE_NO_SYSTEMD"))
                return -ENOMEDIUM;
        r = bus_open_manager(i->user, &bus);
        if (r < 0) {
                log_debug_errno(r, "no service manager bus, running the VM without systemd: %m");
                bus = NULL;
        }
        return r;
}

/* -ENOENT when the manager has no such unit (e.g. a user manager: the
 * unit is installed for the system manager only); logged otherwise. */
static int unit_call(const VmInstance *i, const char *method) {
        _cleanup_free_ char *u = unit_name(i);
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", method, &e, NULL, "ss", u, "replace");
        if (r < 0 && sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")) {
                log_debug("%s: %s: %s", i->name, u, e.message);
                r = -ENOENT;
        } else if (r < 0)
                log_error("%s: %s %s failed: %s", i->name, method, u, e.message ?: strerror(-r));
        sd_bus_error_free(&e);
        return r;
}

static int unit_path(const char *unit, char **ret) {
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *p;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "LoadUnit", &e, &reply, "s", unit);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &p);
        if (r >= 0)
                *ret = xstrdup(p);
        sd_bus_message_unref(reply);
        sd_bus_error_free(&e);
        return r < 0 ? r : 0;
}

typedef struct UnitState {
        char *active;                 /* ActiveState */
        int status;                   /* ExecMainStatus, once the runner ended */
        bool job;                     /* a job (our start) is pending */
        uint64_t started;             /* InactiveExitTimestampMonotonic */
} UnitState;

static void unit_state_done(UnitState *s) {
        free(s->active);
}

static int unit_state(const char *unit, UnitState *ret) {
        _cleanup_free_ char *path = NULL;
        sd_bus_message *reply = NULL;
        UnitState s = {};
        uint32_t job_id = 0;
        const char *job_path;
        int r;

        r = unit_path(unit, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit",
                                       "ActiveState", NULL, &s.active);
        if (r < 0)
                return r;
        if (sd_bus_get_property(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit", "Job",
                                NULL, &reply, "(uo)") >= 0 &&
            sd_bus_message_read(reply, "(uo)", &job_id, &job_path) >= 0)
                s.job = job_id != 0;
        sd_bus_message_unref(reply);
        (void) sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit",
                                           "InactiveExitTimestampMonotonic", NULL, 't', &s.started);
        (void) sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path,
                                           "org.freedesktop.systemd1.Service", "ExecMainStatus", NULL, 'i',
                                           &s.status);
        *ret = s;
        return 0;
}

/* flake-vm@ never ran: its start job failed because a unit it requires
 * (flake-pull@, flake-tap@) failed. Names that unit; returns the pilot's
 * exit status (no network for flake-tap@, as without systemd). */
static int report_dependency_failure(const VmInstance *i, const char *unit) {
        _cleanup_free_ char *path = NULL;
        _cleanup_strv_free_ char **requires = NULL;

        if (unit_path(unit, &path) >= 0)
                (void) sd_bus_get_property_strv(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit",
                                                "Requires", NULL, &requires);
        STRV_FOREACH(dep, requires) {
                _cleanup_(unit_state_done) UnitState d = {};

                if (unit_state(*dep, &d) >= 0 && streq(d.active, "failed")) {
                        log_error("%s: %s was not started: %s failed, see: journalctl %s-u %s", i->name, unit, *dep,
                                  i->user ? "--user " : "", *dep);
                        return startswith(*dep, "flake-tap@") ? PILOT_EXIT_NETWORK :
                               startswith(*dep, "flake-pull@") ? PILOT_EXIT_FAILURE : PILOT_EXIT_VMM;
                }
        }
        log_error("%s: %s was not started, see: systemctl %sstatus %s", i->name, unit, i->user ? "--user " : "", unit);
        return PILOT_EXIT_VMM;
}

static int spawn_runner(VmInstance *i) {
        _cleanup_free_ char *runner = vm_runner_path();
        _cleanup_close_ int log_fd = -EBADF;
        pid_t pid;
        int r;

        r = mkdir_parents(i->log_path, 0755);
        if (r < 0)
                return log_error_errno(r, "%s: cannot create %s: %m", i->name, i->log_path);
        log_fd = open(i->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (log_fd < 0)
                return log_error_errno(errno, "%s: cannot open %s: %m", i->name, i->log_path);

        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "%s: fork: %m", i->name);
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY);
                sigset_t none;

                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                /* Its own session: the VM outlives a caller's Ctrl-C, and
                 * its console goes to the log file, never the terminal. */
                (void) setsid();
                if (null < 0 || dup2(null, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
                        _exit(127);
                execl(runner, "flake-vm", "run", i->name, (char *) NULL);
                _exit(127);
        }
        runner_pid = pid;
        log_debug("%s: started %s run %s (pid %d), console in %s", i->name, runner, i->name, (int) pid, i->log_path);
        return 0;
}

int vm_start(VmInstance *i) {
        _cleanup_free_ char *unit = unit_name(i);
        uint64_t deadline, before = 0, since = now(CLOCK_REALTIME);
        unsigned timeout_s = vm_agent_timeout_sec();
        bool via_bus = open_bus(i) >= 0;
        int r;

        if (via_bus) {
                _cleanup_(unit_state_done) UnitState s = {};

                /* When it last started: a start job that fails on a
                 * dependency leaves it unchanged. */
                if (unit_state(unit, &s) >= 0)
                        before = s.started;
                r = unit_call(i, "StartUnit");
                if (r == -ENOENT) {
                        /* No flake-vm@ for this manager: run it ourselves. */
                        sd_bus_flush_close_unref(bus);
                        bus = NULL;
                        via_bus = false;
                } else if (r < 0)
                        return PILOT_EXIT_VMM;
        }
        if (!via_bus) {
                r = spawn_runner(i);
                if (r < 0)
                        return PILOT_EXIT_VMM;
        }

        /* The runner has its own (equal) deadline for the agent; ours only
         * guards against a runner that hangs. */
        deadline = now_ms() + (timeout_s + 15) * 1000ULL;
        for (unsigned n = 0;; n++) {
                if (access(i->ready_path, F_OK) == 0) {
                        report_runner_warning(i);
                        return 0;
                }
                if (via_bus && n % 10 == 0) {
                        /* (Every 100 ms: PID 1 has better things to do.)
                         * The start job is queued by the time StartUnit
                         * returns: a unit that is down without a job has
                         * ended, or never ran. */
                        _cleanup_(unit_state_done) UnitState s = {};

                        if (unit_state(unit, &s) >= 0 && !s.job &&
                            (streq(s.active, "failed") || streq(s.active, "inactive"))) {
                                if (s.started == before) {
                                        return report_dependency_failure(i, unit);
                                }
                                report_runner_failure(i, true, since);
                                return runner_status_to_exit(i, s.status);
                        }
                } else if (!via_bus) {
                        int status;
                        pid_t p = waitpid(runner_pid, &status, WNOHANG);
                        if (p == runner_pid) {
                                runner_pid = 0;
                                report_runner_failure(i, false, 0);
                                /* The VM never started and the one line said
                                 * it all: no console log to keep. */
                                if (WIFEXITED(status) && WEXITSTATUS(status) == RUNNER_EXIT_NO_NETWORK)
                                        (void) unlink(i->log_path);
                                if (WIFEXITED(status))
                                        return runner_status_to_exit(i, WEXITSTATUS(status));
                                log_error("%s: the VM runner was killed by signal %d", i->name, WTERMSIG(status));
                                return PILOT_EXIT_VMM;
                        }
                }
                if (now_ms() > deadline) {
                        log_error("%s: the VM did not become ready within %u s", i->name, timeout_s + 15);
                        vm_stop(i, 0);
                        return PILOT_EXIT_AGENT;
                }
                usleep(10 * 1000);
        }
}

static bool runner_gone(const VmInstance *i) {
        if (runner_pid > 0) {
                int status;
                if (waitpid(runner_pid, &status, WNOHANG) == runner_pid) {
                        runner_pid = 0;
                        return true;
                }
                return false;
        }
        return !vm_is_running(i);
}

/* Under systemd the teardown ends with ExecStopPost= (flake-vm cleanup)
 * after the runner has exited: only an inactive unit is torn down, and
 * what "systemctl status" says right after the call is the truth. */
static void wait_unit_down(const VmInstance *i, uint64_t deadline) {
        _cleanup_free_ char *unit = NULL;

        if (!bus)
                return;
        unit = unit_name(i);
        while (now_ms() < deadline) {
                _cleanup_(unit_state_done) UnitState s = {};

                if (unit_state(unit, &s) < 0 || streq(s.active, "inactive") || streq(s.active, "failed"))
                        return;
                usleep(10 * 1000);
        }
}

void vm_stop(VmInstance *i, unsigned wait_ms) {
        uint64_t deadline = now_ms() + wait_ms;

        while (!runner_gone(i)) {
                if (now_ms() >= deadline)
                        break;
                usleep(10 * 1000);
        }
        if (runner_gone(i)) {
                wait_unit_down(i, now_ms() + 20000);
                return;
        }

        /* Our own runner, or the unit, or a runner another pilot started. */
        if (runner_pid > 0)
                (void) kill(runner_pid, SIGTERM);
        else if (open_bus(i) < 0 || unit_call(i, "StopUnit") == -ENOENT) {
                _cleanup_free_ char *pid = NULL;
                pid_t p = runner_pid;

                /* A runner started by another pilot: it stops its VMM,
                 * cleans up and exits. Its pid is in the lock it holds
                 * (never in the runtime dir, the VMM user's). */
                if (p <= 0 && read_untrusted_file(i->lock_path, VM_PID_FILE_MAX, &pid) >= 0)
                        p = (pid_t) atoi(pid);
                if (p > 0)
                        (void) kill(p, SIGTERM);
        }
        deadline = now_ms() + 20000;
        while (!runner_gone(i) && now_ms() < deadline)
                usleep(10 * 1000);
        wait_unit_down(i, deadline);
}
