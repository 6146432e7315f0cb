#!/bin/bash
# podman-pilot against real podman: modes, streams, exit codes, signals,
# TTY, provisioning, includes, concurrency, bad input, flake-ctl verbs.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/podman/setup.sh"
require script docker-registry

build_image localhost/flake-test:latest
n_containers() { podman ps -a --format '{{.ID}}' | wc -l; }

# pty_run CMD: CMD (a shell command line) on a fresh pty via script(1),
# its output on stdout, its status returned. stdin stays open until CMD is
# done: at EOF script sends ^D into the pty, which ends a podman --tty
# session early (output lost at random) -- a real terminal never does that.
pty_run() {
        local fifo="$T/pty.fifo" holder rc
        rm -f "$fifo"; mkfifo "$fifo"
        sleep 300 > "$fifo" &
        holder=$!
        script -qec "$1; rc=\$?; kill $holder; exit \$rc" /dev/null < "$fifo" | tr -d '\r'
        rc=${PIPESTATUS[0]}
        kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
        return "$rc"
}

# A podman that logs its arguments (one call per line) to $T/podman.log.
printf '#!/bin/sh\necho "$*" >> %s/podman.log\nexec podman "$@"\n' "$T" > "$T/podman-logged"
chmod +x "$T/podman-logged"
logged() { : > "$T/podman.log"; FLAKE_PODMAN="$T/podman-logged" "$@"; }

# --- one-shot: args verbatim, exit status, streams -----------------------
register echoer localhost/flake-test /bin/echo
out=$("$(app echoer)" 'two  spaces' '$HOME' '*' 2>&1)
assert_eq "one-shot passes arguments verbatim" 'two  spaces $HOME *' "$out"
register shx localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    podman:" "      - -ti" "      - --env FOO=%FLAKE_TEST_VAR"
"$(app shx)" -c 'exit 42'
assert_eq "app exit status is the pilot's" 42 $?
out=$(echo "piped input" | "$(app shx)" -c 'read l; echo "got: $l"')
assert_eq "stdin streams through a pipe (and -ti from the registration is not forced)" "got: piped input" "$out"
"$(app shx)" -c 'echo out; echo err >&2' >"$T/o" 2>"$T/e"
assert_eq "stdout stays stdout" out "$(cat "$T/o")"
assert_eq "stderr stays stderr" err "$(cat "$T/e")"
out=$(FLAKE_TEST_VAR=expanded "$(app shx)" -c 'echo $FOO')
assert_eq "%VAR expansion in runtime.podman" expanded "$out"
out=$("$(app shx)" -c 'echo $FOO')
assert_eq "unset %VAR becomes \$VAR" '$FLAKE_TEST_VAR' "$out"
out=$("$(app shx)" -- -c 'echo "$0 $1"' @x %y)
assert_eq "'--' passes @ and % arguments to the app" "@x %y" "$out"
# Streaming: each line stamped (ms) as it reaches us. The app prints a
# line, sleeps 3 s, prints another: streamed, the two arrive about 3 s
# apart and the first one about 3 s before the app ends; fully buffered,
# both arrive together at the end (a container's start-up time is in
# neither difference).
ms() { echo $(($(date +%s%N) / 1000000)); }
stamp_lines() { local l; while IFS= read -r l; do echo "$(ms) $l"; done; }
"$(app shx)" -c 'echo early; sleep 3; echo late' | stamp_lines > "$T/stream"
end=$(ms)
t_early=$(awk '$2 == "early" { print $1 }' "$T/stream")
t_late=$(awk '$2 == "late" { print $1 }' "$T/stream")
assert_eq "streamed run prints both lines" "early late" "$(cut -d' ' -f2 "$T/stream" | xargs)"
check "output is streamed (lines $((${t_late:-0} - ${t_early:-0})) ms apart, printed 3000 ms apart)" \
        test "$((${t_late:-0} - ${t_early:-0}))" -ge 2000
check "first line before the app ends ($((end - ${t_early:-$end})) ms before)" \
        test "$((end - ${t_early:-$end}))" -ge 2000
assert_eq "one-shot leaves no container" 0 "$(n_containers)"
assert_eq "one-shot leaves no cid file" "" "$(ls "$IDS/0" | grep '\.cid$')"

# --- TTY only on a terminal ------------------------------------------------
out=$(pty_run "$(app shx) -c 'test -t 0 && test -t 1 && echo tty'")
assert_contains "TTY when stdin and stdout are terminals" "$out" tty
out=$("$(app shx)" -c 'test -t 1 && echo tty || echo notty')
assert_eq "no TTY in a pipe" notty "$out"

# --- signals reach the app -------------------------------------------------
"$(app shx)" -c 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done' >"$T/sig" &
pid=$!
for _ in $(seq 50); do grep -q ready "$T/sig" 2>/dev/null && break; sleep 0.1; done
kill -TERM $pid; wait $pid; rc=$?
assert_eq "SIGTERM reaches the app (its exit status comes back)" 3 "$rc"
assert_contains "the app's trap ran" "$(cat "$T/sig")" got-term
# An app without a handler dies of it, as on the host (it is not PID 1).
"$(app shx)" -c 'echo ready; exec sleep 60' >"$T/sig2" &
pid=$!
for _ in $(seq 50); do grep -q ready "$T/sig2" 2>/dev/null && break; sleep 0.1; done
sleep 0.3
start=$(date +%s)
kill -TERM $pid; wait $pid; rc=$?
assert_eq "SIGTERM ends an app that has no handler: 128+15" 143 "$rc"
check "... at once" test $(( $(date +%s) - start )) -lt 10

# --- the hot path: one podman process ----------------------------------------
out=$(logged "$(app echoer)" hot </dev/null)
assert_eq "one-shot via the logging podman works" hot "$out"
# (--init: signals reach the app, see above)
# (--name flake-<instance>-<pid>: so the pilot can remove the container when
# a stop of its scope kills podman's own --rm cleanup)
assert_eq "one-shot: exactly one podman process, the command a user would type" \
        "run --rm --init --interactive --pull=never --name flake-echoer-PID --entrypoint /bin/echo localhost/flake-test hot" \
        "$(sed 's/--name flake-echoer-[0-9]* /--name flake-echoer-PID /' "$T/podman.log")"

# --- %progress and %interactive ------------------------------------------------
out=$(pty_run "$(app echoer) %progress hi")
assert_contains "%progress: spinner text on a terminal" "$out" "Launching flake..."
assert_contains "%progress: success line, then the app's output" "$out" "Launching flake... done"
assert_contains "%progress: the app still runs" "$out" "hi"
"$(app echoer)" %progress quiet >/dev/null 2>"$T/progress.err"
assert_eq "%progress: nothing when stderr is not a terminal" "" "$(cat "$T/progress.err")"
out=$(pty_run "$(app shx) %interactive -c 'test -t 0 && echo tty || echo notty' > $T/inter.out")
assert_eq "%interactive: a TTY with stdout redirected, stdin a terminal" tty "$(tr -d '\r' < "$T/inter.out")"
out=$(pty_run "$(app shx) -c 'test -t 0 && echo tty || echo notty' > $T/inter.out")
assert_eq "without %interactive: no TTY when stdout is redirected" notty "$(cat "$T/inter.out")"

# --- resume ----------------------------------------------------------------
register res localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    resume: true"
out=$("$(app res)" -c 'echo first; exit 5'); rc=$?
assert_eq "resume: output" first "$out"
assert_eq "resume: exit status" 5 "$rc"
"$(app res)" -c 'echo kept > /tmp/state'
assert_eq "resume: the container is kept between calls" kept "$("$(app res)" -c 'cat /tmp/state')"
assert_eq "resume: one container" 1 "$(n_containers)"
out=$(echo in | "$(app res)" -c 'cat')
assert_eq "resume: stdin streams" in "$out"
rm -f "$T"/conc.*
for i in $(seq 10); do "$(app res)" -c "echo \$((\$1 * 2))" sh "$i" >"$T/conc.$i" 2>&1 & done
wait
ok=0; for i in $(seq 10); do [ "$(cat "$T/conc.$i")" = "$((i * 2))" ] && ok=$((ok + 1)); done
assert_eq "10 concurrent resume launches: 10 correct results" 10 "$ok"
assert_eq "10 concurrent resume launches: exactly one container" 1 "$(n_containers)"
register conc localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    resume: true"
for i in $(seq 10); do "$(app conc)" -c "echo \$1" sh "$i" >"$T/conc.$i" 2>&1 & done
wait
ok=0; for i in $(seq 10); do [ "$(cat "$T/conc.$i")" = "$i" ] && ok=$((ok + 1)); done
assert_eq "10 concurrent first launches: 10 correct results" 10 "$ok"
assert_eq "10 concurrent first launches: one new container" 2 "$(n_containers)"
"$(app conc)" %remove -c true
assert_eq "%remove tears the instance down" 1 "$(n_containers)"
"$(app res)" @one -c 'echo x' >/dev/null
assert_eq "@NAME makes a second instance" 2 "$(n_containers)"
assert_eq "the instance has its own cid file" yes "$([ -f "$IDS/0/res@one.cid" ] && echo yes)"

# resume hot path: a session with the container's agent, no podman process
out=$(logged "$(app res)" -c 'echo fast' </dev/null)
assert_eq "resume via the logging podman works" fast "$out"
assert_eq "resume: no podman process at all (a session with the agent)" 0 "$(wc -l < "$T/podman.log")"
assert_contains "resume: the container's main process is the agent (under --init)" \
        "$(podman inspect --format '{{.Path}} {{join .Args " "}}' "$(cat "$IDS/0/res.cid")")" \
        "/run/flake-agent/flake-agent --listen /run/flake-agent/socket/agent.sock"
"$(app res)" -c 'echo out; echo err >&2' >"$T/o" 2>"$T/e"
assert_eq "resume: stdout stays stdout" out "$(cat "$T/o")"
assert_eq "resume: stderr stays stderr" err "$(cat "$T/e")"
out=$("$(app res)" -c 'nosuchprogram' 2>&1); rc=$?
assert_eq "resume: a missing program is 127, as podman exec says" 127 "$rc"
"$(app res)" -c 'echo early; sleep 3; echo late' | stamp_lines > "$T/stream"
t_early=$(awk '$2 == "early" { print $1 }' "$T/stream")
t_late=$(awk '$2 == "late" { print $1 }' "$T/stream")
check "resume: output is streamed ($((${t_late:-0} - ${t_early:-0})) ms apart, printed 3000 ms apart)" \
        test "$((${t_late:-0} - ${t_early:-0}))" -ge 2000
out=$(head -c 300000 /dev/zero | tr '\0' x | "$(app res)" -c 'wc -c')
assert_eq "resume: 300 kB of stdin streamed through the agent" 300000 "$(echo $out)"
# More calls at once than the agent takes (64 connections): those beyond
# fall back to podman exec, each still correct. The calls wait for a file
# the test makes once the fallbacks have started, so they all overlap.
: > "$T/podman.log"
pids=()
for i in $(seq 70); do
        FLAKE_PODMAN="$T/podman-logged" timeout 300 "$(app res)" \
                -c 'while [ ! -e /tmp/go ]; do sleep 0.2; done; echo "$1"' sh "$i" >"$T/many.$i" 2>&1 </dev/null &
        pids+=($!)
done
for _ in $(seq 300); do [ "$(grep -c 'exec --interactive' "$T/podman.log")" -ge 6 ] && break; sleep 0.2; done
n_exec=$(grep -c 'exec --interactive' "$T/podman.log")
podman exec "$(cat "$IDS/0/res.cid")" /bin/sh -c ': > /tmp/go'
wait "${pids[@]}"
ok=0; for i in $(seq 70); do [ "$(cat "$T/many.$i")" = "$i" ] && ok=$((ok + 1)); done
assert_eq "70 calls at once into one resumed container: 70 correct results" 70 "$ok"
check "... those beyond the agent's 64 connections through podman exec ($n_exec of 70)" test "$n_exec" -ge 6 -a "$n_exec" -lt 70
out=$(pty_run "$(app res) -c 'test -t 0 && test -t 1 && echo tty'")
assert_contains "resume: a pty when stdin and stdout are terminals" "$out" tty
pty_run "$(app res) %interactive -c 'test -t 0 && echo tty || echo notty' > $T/inter.out" >/dev/null
assert_eq "resume: %interactive gives a pty with stdout redirected" tty "$(tr -d '\r' < "$T/inter.out")"
out=$(pty_run "stty rows 33 cols 77; $(app res) -c 'stty size'")
assert_contains "resume: the pty has the caller's window size" "$out" "33 77"
out=$(pty_run "stty rows 20 cols 50; $(app res) -c 'trap \"stty size; exit 7\" WINCH; echo ready; while :; do sleep 0.1; done' </dev/tty & p=\$!; sleep 2; stty rows 41 cols 91; kill -WINCH \$p; wait \$p; echo rc=\$?")
assert_contains "resume: SIGWINCH reaches the app with the new size" "$out" "41 91"
assert_contains "resume: ... and its exit status comes back" "$out" "rc=7"

# The environment, user and working directory are podman exec's: the
# image's USER and WORKDIR, the image's and the registration's env.
mkdir -p "$T/userimg/etc" "$T/userimg/work"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' > "$T/userimg/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' > "$T/userimg/etc/group"
chmod 0777 "$T/userimg/work"
build_image localhost/flake-user:latest "$T/userimg" --change 'USER app' --change 'WORKDIR /work' --change 'ENV IMGVAR=img'
register ures localhost/flake-user /bin/sh "  runtime:" "    resume: true" "    podman:" "      - --env FLAKEVAR=flake"
"$(app ures)" -c true
# (podman gives the container's main process, the agent, HOSTNAME and the
# user's supplementary groups, which podman exec leaves out.)
report='id -u; id -g; pwd; env | grep -v ^HOSTNAME= | sort'
out=$("$(app ures)" -c "$report")
assert_contains "resume: the app runs as the image's USER, in its WORKDIR" "$(echo $out)" "1000 1000 /work"
assert_contains "resume: with the image's environment" "$out" "IMGVAR=img"
assert_contains "resume: and the registration's" "$out" "FLAKEVAR=flake"
assert_eq "resume: id, directory and environment are those of podman exec" \
        "$(podman exec "$(cat "$IDS/0/ures.cid")" sh -c "$report")" "$out"
register ures2 localhost/flake-user /bin/sh "  runtime:" "    resume: true" "    podman:" "      - --user 0"
out=$("$(app ures2)" -c 'id -u')
assert_eq "resume: runtime.podman --user wins over the image's USER" 0 "$out"

# A read-only container: the agent's mount points are made in its /run
# (a tmpfs podman keeps writable).
register rores localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    resume: true" \
        "    podman:" "      - --read-only"
out=$("$(app rores)" -c 'touch /x 2>/dev/null || echo read-only; exit 6'); rc=$?
assert_eq "resume --read-only: the call works" "read-only 6" "$out $rc"
assert_eq "... through the agent" 0 "$(logged "$(app rores)" -c true </dev/null; wc -l < "$T/podman.log")"
"$(app rores)" %remove -c true

# Who may use the socket: root and the agent's own user. Another uid (here
# nobody, reaching the socket as a process in the container could) is
# refused without a session, and the refusal is in the container's log.
sock_dir="$IDS/0/ures.agent/socket"
out=$(python3 - "$sock_dir" <<'PYEOF'
import os, socket, sys
d = os.open(sys.argv[1], os.O_PATH)
os.setgroups([]); os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX)
s.connect("/proc/self/fd/%d/agent.sock" % d)
s.settimeout(5)
print("got %d bytes" % len(s.recv(100)))
PYEOF
)
assert_eq "agent: a connection from another uid is closed without a HELLO" "got 0 bytes" "$out"
assert_contains "agent: ... and said in the container's log" "$(podman logs "$(cat "$IDS/0/ures.cid")" 2>&1)" \
        "flake-agent: refusing an agent connection from uid 65534"
assert_eq "agent: the flake still works after a refusal" 1000 "$("$(app ures)" -c 'id -u')"
"$(app ures)" %remove -c true
"$(app ures2)" %remove -c true

# Without the agent: podman exec, for a flake that turns it off and for a
# container created before the agent (no agent directory).
register noag localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    resume: true" "    agent: false"
"$(app noag)" -c true
out=$(logged "$(app noag)" -c 'echo via-exec; exit 4' </dev/null); rc=$?
assert_eq "agent: false: the call works, with its exit status" "via-exec 4" "$out $rc"
assert_contains "agent: false: it is one podman exec" "$(cat "$T/podman.log")" "exec --interactive --env FLAKE_SESSION="
assert_contains "agent: false: the container idles in sleep" \
        "$(podman inspect --format '{{.Path}} {{join .Args " "}}' "$(cat "$IDS/0/noag.cid")")" "sleep 4294967295d"
register noag localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    resume: true"
out=$(logged "$(app noag)" -c 'echo old-container' 2>&1 </dev/null); rc=$?
assert_eq "a container made without the agent: podman exec, silently" "old-container 0" "$out $rc"
assert_contains "... through podman exec" "$(cat "$T/podman.log")" "exec --interactive"
"$(app noag)" %remove -c true
assert_eq "%remove: the agent directory goes with the container" no \
        "$([ -e "$IDS/0/noag.agent" ] && echo yes || echo no)"

# The container killed during a call: one clear line, and the next call
# starts it again.
register kil localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    resume: true"
"$(app kil)" -c 'echo ready; sleep 100' >"$T/kil" 2>"$T/kil.err" &
pid=$!
for _ in $(seq 50); do grep -q ready "$T/kil" 2>/dev/null && break; sleep 0.1; done
podman kill "$(cat "$IDS/0/kil.cid")" >/dev/null
wait $pid; rc=$?
assert_eq "container killed during a call: the pilot's failure status" 125 "$rc"
assert_eq "... with one line saying so" "podman-pilot: The container of kil stopped during the call" "$(cat "$T/kil.err")"
out=$("$(app kil)" -c 'echo back' 2>"$T/kil.err"); rc=$?
assert_eq "... the next call starts it again" "back 0" "$out $rc"
assert_contains "... and says so" "$(cat "$T/kil.err")" "no longer running"
"$(app kil)" %remove -c true

# a vanished container is detected and recreated
register van localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    resume: true"
"$(app van)" -c true
podman rm --force --time 0 "$(cat "$IDS/0/van.cid")" >/dev/null
out=$("$(app van)" -c 'echo back' 2>"$T/van.err"); rc=$?
assert_eq "resume: a removed container is recreated" "back 0" "$out $rc"
assert_contains "resume: the recreation is said" "$(cat "$T/van.err")" "no longer running"
podman stop --time 0 "$(cat "$IDS/0/van.cid")" >/dev/null
assert_eq "resume: a stopped container is started again" again "$("$(app van)" -c 'echo again' 2>/dev/null)"
touch -d '2000-01-01' "$IDS/0/van.cid"
out=$(logged "$(app van)" -c 'echo old' 2>/dev/null)
assert_eq "resume: a cid file from before the boot" old "$out"
assert_eq "resume: ... is checked first (inspect, then the agent), no failed call" \
        "container inspect" "$(awk '{ print $1, $2 }' "$T/podman.log" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "resume: recovery leaves one container" 1 "$(podman ps -a --filter "id=$(cat "$IDS/0/van.cid")" --format '{{.ID}}' | wc -l)"
"$(app van)" %remove -c true

# the original's recovery from a stale container holding a --name
register named localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    resume: true" \
        "    podman:" "      - --name flake-named-test"
"$(app named)" -c true
old=$(cat "$IDS/0/named.cid")
rm -f "$IDS/0/named.cid"    # as if /tmp had been cleaned at a reboot
out=$(PILOT_DEBUG=1 "$(app named)" -c 'echo recovered' 2>"$T/named.err"); rc=$?
assert_eq "stale --name container: removed and created again" "recovered 0" "$out $rc"
assert_contains "stale --name container: said" "$(cat "$T/named.err")" "stale container"
assert_eq "stale --name container: the old one is gone" no "$(podman container exists "$old" && echo yes || echo no)"
assert_eq "stale --name container: one container with the name" 1 \
        "$(podman ps -a --filter name=flake-named-test --format '{{.ID}}' | wc -l)"
"$(app named)" %remove -c true

# a signal to the pilot reaches the process podman exec started
register rsig localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    resume: true"
"$(app rsig)" -c true
"$(app rsig)" -c 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done' >"$T/rsig" &
pid=$!
for _ in $(seq 50); do grep -q ready "$T/rsig" 2>/dev/null && break; sleep 0.1; done
kill -TERM $pid; wait $pid; rc=$?
assert_eq "resume: SIGTERM reaches the exec'd app (its exit status comes back)" 3 "$rc"
assert_contains "resume: the app's trap ran" "$(cat "$T/rsig")" got-term
assert_eq "resume: no exec'd process left in the container" 0 \
        "$(podman top "$(cat "$IDS/0/rsig.cid")" args | grep -c 'got-term')"
: > "$T/rsig"   # "ready" must be this call's, not the last one's
"$(app rsig)" -c 'echo ready; exec sleep 100' >"$T/rsig" &
pid=$!
for _ in $(seq 50); do grep -q ready "$T/rsig" 2>/dev/null && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
assert_eq "resume: SIGINT ends an exec'd app without a trap (128+2)" 130 "$rc"
for sig in HUP QUIT; do
        : > "$T/rsig"
        "$(app rsig)" -c 'echo ready; exec sleep 100' >"$T/rsig" &
        pid=$!
        for _ in $(seq 50); do grep -q ready "$T/rsig" 2>/dev/null && break; sleep 0.1; done
        kill -$sig $pid; wait $pid; rc=$?
        assert_eq "resume: SIG$sig reaches the app (128+$(kill -l $sig))" $((128 + $(kill -l $sig))) "$rc"
done
assert_eq "resume: no process of those calls left in the container" 0 \
        "$(podman top "$(cat "$IDS/0/rsig.cid")" args | grep -c 'sleep 100')"
"$(app rsig)" %remove -c true

# --- flake-ctl podman show / stop --------------------------------------------
out=$("$CTL" podman show)
assert_contains "show lists the resume instance" "$out" "res@one"
assert_contains "show reports it running" "$out" running
echo deadbeefdeadbeefdeadbeef > "$IDS/0/res@ghost.cid"
touch -d '2000-01-01' "$IDS/0/res@ghost.cid"
out=$("$CTL" podman show 2>/dev/null)
assert_not_contains "show leaves out a cid file of a vanished container" "$out" "res@ghost"
assert_eq "show removed that stale cid file" no "$([ -e "$IDS/0/res@ghost.cid" ] && echo yes || echo no)"
out=$("$CTL" podman show --format json)
assert_contains "show --format json" "$out" '"status"'
check "flake-ctl podman stop res@one" "$CTL" podman stop res@one
assert_eq "stop removed the instance's agent directory" no "$([ -e "$IDS/0/res@one.agent" ] && echo yes || echo no)"
assert_eq "stop removed the container" 1 "$(n_containers)"
check_fails "stop of an unknown instance fails" "$CTL" podman stop res@nope
"$CTL" podman stop res >/dev/null 2>&1
assert_eq "all resume containers gone" 0 "$(n_containers)"

# --- instance state: ownership, symlinks, cid contents (issue 12.4) ---------
# The attacker is "nobody"; it needs to reach the ids dir for these tests.
chmod 0755 "$T" "$FLAKE_ROOT"
register own localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    resume: true"
"$(app own)" -c true
podman create --name flake-evil localhost/flake-test sleep 1000 >/dev/null
podman start flake-evil >/dev/null
podman exec flake-evil sh -c 'echo evil > /marker'
evil=$(podman inspect --format '{{.Id}}' flake-evil)
mkdir "$T/evil"; echo "$evil" > "$T/evil/own.cid"; chown -R nobody "$T/evil"
# The shared base owned by another user (created by the first user to launch
# a flake before tmpfiles ran): it could swap root's dir at any time.
chown nobody "$IDS"
err=$("$(app own)" -c 'cat /marker 2>/dev/null || echo mine' 2>&1); rc=$?
assert_eq "ids dir owned by another user: root's launch refused" 125 "$rc"
assert_contains "... with one line naming the directory and its owner" "$err" "$IDS is owned by uid 65534"
assert_eq "... a single line" 1 "$(printf '%s\n' "$err" | wc -l)"
# The race of the report: the owner of the base swaps root's dir for a
# symlink to its own while root launches.
setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "
        while [ ! -e $T/stop-swap ]; do
                mv $IDS/0 $IDS/0.real 2>/dev/null && ln -s $T/evil $IDS/0 2>/dev/null
                rm -f $IDS/0; mv $IDS/0.real $IDS/0 2>/dev/null
        done" &
swapper=$!
n_evil=0
for _ in $(seq 20); do
        [ "$("$(app own)" -c 'cat /marker 2>/dev/null' 2>/dev/null)" = evil ] && n_evil=$((n_evil + 1))
done
touch "$T/stop-swap"; wait "$swapper"
assert_eq "swapping root's dir for a symlink: no launch runs in the attacker's container" 0 "$n_evil"
chown root "$IDS"
[ -L "$IDS/0" ] && rm -f "$IDS/0"
[ -d "$IDS/0.real" ] && mv "$IDS/0.real" "$IDS/0"
# The per-user dir itself: a symlink, another owner, writable by others.
mv "$IDS/0" "$IDS/0.real"; ln -s "$T/evil" "$IDS/0"
err=$("$(app own)" -c 'echo ran' 2>&1); rc=$?
assert_eq "per-user dir replaced by a symlink: refused" "125" "$rc"
assert_contains "... naming it" "$err" "$IDS/0"
rm "$IDS/0"; mkdir -m 0700 "$IDS/0"; chown nobody "$IDS/0"
err=$("$(app own)" -c 'echo ran' 2>&1); rc=$?
assert_eq "per-user dir owned by another user: refused" "125 $IDS/0 is owned by uid 65534, not by uid 0, refusing" \
        "$rc $(printf '%s' "$err" | sed 's/^podman-pilot: //')"
rmdir "$IDS/0"; mv "$IDS/0.real" "$IDS/0"; chmod 0777 "$IDS/0"
err=$("$(app own)" -c 'echo ran' 2>&1); rc=$?
assert_eq "per-user dir writable by others: refused" 125 "$rc"
assert_contains "... naming it" "$err" "$IDS/0 is writable by other users"
chmod 0700 "$IDS/0"
assert_eq "with the dirs fixed the instance runs again" mine "$("$(app own)" -c 'cat /marker 2>/dev/null || echo mine')"
# A cid file is podman's output: anything but a container ID is refused,
# never passed on to podman (as an option, say).
printf -- '--all\n' > "$IDS/0/own@opt.cid"
out=$(logged "$CTL" podman stop own@opt 2>&1); rc=$?
assert_eq "stop: a cid file that is no container ID is refused" 1 "$rc"
assert_contains "... naming the file" "$out" "$IDS/0/own@opt.cid"
assert_not_contains "... and podman never sees it" "$(cat "$T/podman.log")" "--all"
assert_eq "... no container was removed" yes "$(podman container exists flake-evil && echo yes)"
err=$("$(app own)" @opt -c 'echo ran' 2>&1); rc=$?
assert_eq "pilot: a cid file that is no container ID is refused" 125 "$rc"
assert_contains "... naming the file" "$err" "$IDS/0/own@opt.cid"
rm -f "$IDS/0/own@opt.cid"
logged "$CTL" podman stop own >/dev/null 2>&1
assert_contains "stop ends podman's options before the container ID" "$(cat "$T/podman.log")" "rm --force --ignore -- "
# Names of instance files are shown with control characters escaped.
echo "$evil" > "$IDS/0/own@"$'\e[31mred'".cid"
out=$("$CTL" podman show 2>&1)
assert_not_contains "show: no raw escape sequence from a file name" "$out" $'\e'
assert_contains "show: the name is shown escaped" "$out" 'own@\x1b[31mred'
rm -f "$IDS/0/own@"$'\e[31mred'".cid"
podman rm --force --time 0 flake-evil >/dev/null

# --- debug logs: no environment, no secrets of URLs (issue 12.11) -----------
register dbg localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    podman:" \
        "      - --env PROXY=http://flake:s3cret@proxy.example:3128/?token=t0k"
err=$(PILOT_DEBUG=1 "$(app dbg)" -c 'echo "$PROXY"' 2>&1 >"$T/dbg.out")
assert_eq "debug: the app still gets the whole value" "http://flake:s3cret@proxy.example:3128/?token=t0k" "$(cat "$T/dbg.out")"
assert_contains "debug: podman's command line is logged" "$err" "run: "
assert_contains "... with the URL redacted" "$err" "PROXY=http://***@proxy.example:3128/?***"
assert_not_contains "... no password" "$err" "s3cret"
assert_not_contains "... no query string" "$err" "t0k"
assert_not_contains "... and no environment" "$err" "CONTAINERS_STORAGE_CONF="

# --- attach ----------------------------------------------------------------
register att localhost/flake-test /bin/sh "  runtime:" "    runas: root" "    attach: true"
out=$("$(app att)" -c 'echo attached; exit 6'); rc=$?
assert_eq "attach: output" attached "$out"
assert_eq "attach: exit status" 6 "$rc"
assert_eq "attach: the stopped container is kept" 1 "$(n_containers)"
out=$("$(app att)"); rc=$?
assert_eq "attach: a second call restarts it with its arguments" "attached 6" "$out $rc"
"$(app att)" %remove >/dev/null
assert_eq "attach: %remove" 0 "$(n_containers)"

# --- provisioning: delta layers, removed, systemfiles, includes -------------
mkdir -p "$T/l1/usr/share/l1" "$T/delta/usr/share/delta" "$T/hostdep"
echo layer1 > "$T/l1/usr/share/l1/file"
echo delta > "$T/delta/usr/share/delta/file"
echo "$T/hostdep/provided" > "$T/delta/removed"
echo "from host" > "$T/hostdep/provided"
build_image localhost/layer1:latest "$T/l1"
build_image localhost/delta:latest "$T/delta"
mkdir -p "$T/tarsrc/opt/inc"; echo "from tar" > "$T/tarsrc/opt/inc/t"
tar -C "$T/tarsrc" -cf "$T/inc.tar" .
echo "host path" > "$T/hostfile"
register dlt localhost/delta /bin/sh "  base_container: localhost/flake-test" "  layers:" "    - localhost/layer1" \
        "  runtime:" "    runas: root"
cat > "$FLAKE_ROOT/usr/share/flakes/dlt.d/includes.yaml" <<EOY
include:
  tar:
    - $T/inc.tar
  path:
    - $T/hostfile
EOY
out=$("$(app dlt)" -c "cat /usr/share/l1/file /usr/share/delta/file $T/hostdep/provided /opt/inc/t $T/hostfile; exit 9"); rc=$?
assert_eq "delta: layers, app image, removed list and includes provisioned" \
        "layer1 delta from host from tar host path" "$(echo $out)"
assert_eq "delta: exit status" 9 "$rc"
assert_eq "delta one-shot leaves no container" 0 "$(n_containers)"

mkdir -p "$T/sf"; printf '#!/bin/sh\necho %s\n' "$T/hostfile" > "$T/sf/systemfiles"
build_image localhost/sysfiles:latest "$T/sf"
register sfl localhost/sysfiles /bin/cat "  check_host_dependencies: true" "  runtime:" "    runas: root"
assert_eq "systemfiles: host files listed by the image's script are provisioned" "host path" "$("$(app sfl)" "$T/hostfile" 2>&1)"

register badinc localhost/flake-test /bin/true "  runtime:" "    runas: root"
printf 'include:\n  tar:\n    - %s/missing.tar\n' "$T" > "$FLAKE_ROOT/usr/share/flakes/badinc.d/inc.yaml"
err=$("$(app badinc)" 2>&1); rc=$?
assert_eq "missing include: pilot failure status" 125 "$rc"
assert_contains "missing include: named" "$err" "missing.tar"
assert_eq "failed provisioning leaves no container" 0 "$(n_containers)"
assert_eq "failed provisioning leaves no cid file" "" "$(ls "$IDS/0" | grep '\.cid$')"

# --- include.tar: one path policy (lib/archive/archive-extract.c) -------------------
# evil_tar OUT SPEC...: a tar written as an attacker would (python's tarfile
# keeps what GNU tar would sanitise). SPEC: file:NAME:DATA, dir:NAME,
# symlink:NAME:TARGET, hardlink:NAME:TARGET[:DATA] (a hard link may carry data),
# fifo:NAME, suid:NAME (mode 4755, owner 1234:1234).
evil_tar() {
        python3 - "$@" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for spec in sys.argv[2:]:
        kind, name, *rest = spec.split(":", 2)
        i = tarfile.TarInfo(name)
        i.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                  "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "suid": tarfile.REGTYPE}[kind]
        data = b""
        if kind == "file":
            data = rest[0].encode() if rest else b""
        elif kind in ("symlink", "hardlink"):
            target, _, d = rest[0].partition(":") if kind == "hardlink" else (rest[0], "", "")
            i.linkname = target
            data = d.encode()
        i.mode = 0o755 if kind == "dir" else 0o4755 if kind == "suid" else 0o644
        if kind == "suid":
            i.uid = i.gid = 1234
        i.size = len(data)
        t.addfile(i, io.BytesIO(data) if data else None)
PY
}
# On overlay a hard link out of the merged root fails with EXDEV by luck;
# on the vfs driver the container root is a plain directory of the host's
# filesystem. These cases run against a vfs store.
sed -e 's/"overlay"/"vfs"/' -e "s|$T/storage|$T/vfs|" -e "s|$T/run|$T/vfs-run|" "$T/storage.conf" \
        > "$FLAKE_ROOT/etc/storage-vfs.conf"
sed 's|/etc/storage.conf|/etc/storage-vfs.conf|' "$FLAKE_ROOT/etc/flakes.yml" > "$FLAKE_ROOT/etc/flakes-vfs.yml"
saved_conf="$FLAKE_CONFIG"
export FLAKE_CONFIG="$FLAKE_ROOT/etc/flakes-vfs.yml" CONTAINERS_STORAGE_CONF="$FLAKE_ROOT/etc/storage-vfs.conf"
build_image localhost/flake-test:latest
# inc_fails NAME TAR WHAT MESSAGE: a registration including TAR fails to
# provision with a one-line MESSAGE, and leaves no container.
inc_fails() {
        register "$1" localhost/flake-test /bin/true "  runtime:" "    runas: root"
        printf 'include:\n  tar:\n    - %s\n' "$2" > "$FLAKE_ROOT/usr/share/flakes/$1.d/inc.yaml"
        err=$("$(app "$1")" 2>&1); rc=$?
        assert_eq "$3: pilot failure status" 125 "$rc"
        assert_contains "$3: error naming the tar" "$(echo "$err" | grep -v 'container removed')" "$2: $4"
        assert_eq "$3: one line (and the removal)" 2 "$(echo "$err" | wc -l)"
        assert_eq "$3: leaves no container" 0 "$(n_containers)"
}
up=$(printf '../%.0s' $(seq 40))
echo original > "$T/victim"
evil_tar "$T/hl.tar" "hardlink:pwn:$up${T#/}/victim:pwned"
inc_fails hl "$T/hl.tar" "hard link to a host file with data" "unsafe archive entry 'pwn': hard link"
assert_eq "hard link escape: the host file is untouched" original "$(cat "$T/victim")"
evil_tar "$T/hl2.tar" "hardlink:pwn:$up${T#/}/victim" "file:pwn:pwned"
inc_fails hl2 "$T/hl2.tar" "hard link to a host file, then data" "unsafe archive entry 'pwn': hard link"
assert_eq "hard link escape then overwrite: the host file is untouched" original "$(cat "$T/victim")"
assert_eq "hard link escape: no link to the host file was made" 1 "$(stat -c %h "$T/victim")"
evil_tar "$T/hl3.tar" "hardlink:pwn:etc/passwd"
inc_fails hl3 "$T/hl3.tar" "hard link to a file not in the archive" "unsafe archive entry 'pwn': hard link"
mkdir -p "$T/outside"
evil_tar "$T/sl.tar" "symlink:esc:$T/outside" "file:esc/planted:x"
inc_fails sl "$T/sl.tar" "writing through a symlink of the archive" "unsafe archive entry 'esc/planted'"
check_fails "symlink escape: nothing written outside" test -e "$T/outside/planted"
evil_tar "$T/dd.tar" "file:a/../../../../../../$T/outside/dd:x"
inc_fails dd "$T/dd.tar" "'..' entry" "unsafe archive entry"
check_fails "'..' entry: nothing written outside" test -e "$T/outside/dd"
evil_tar "$T/ab.tar" "file:$T/outside/ab:x"
inc_fails ab "$T/ab.tar" "absolute entry" "unsafe archive entry"
check_fails "absolute entry: nothing written outside" test -e "$T/outside/ab"
evil_tar "$T/ff.tar" "fifo:pipe"
inc_fails ff "$T/ff.tar" "fifo" "unsafe archive entry 'pipe'"
evil_tar "$T/big.tar" "file:a:$(head -c 3000 /dev/zero | tr '\0' a)" "file:b:bbb"
head -c 1500 "$T/big.tar" > "$T/trunc.tar"
inc_fails tr "$T/trunc.tar" "tar truncated in the data" ""
head -c 3800 "$T/big.tar" > "$T/trunc2.tar"
inc_fails tr2 "$T/trunc2.tar" "tar truncated in a header" ""
head -c 4096 /dev/urandom > "$T/garbage.tar"
inc_fails gb "$T/garbage.tar" "garbage tar" ""
evil_tar "$T/ok.tar" "dir:opt/ok" "file:opt/ok/f:linked" "hardlink:opt/ok/h:opt/ok/f" \
        "symlink:opt/ok/abs:/etc/passwd" "suid:opt/ok/s"
# GNU tar -S: a sparse file, data at 1 MiB, a hole to 2 MiB; bin/x lands in
# the image's /bin (a directory here) and keeps its neighbours.
mkdir -p "$T/sp/opt/sp" "$T/sp/bin"; truncate -s 2M "$T/sp/opt/sp/file"
printf data | dd of="$T/sp/opt/sp/file" bs=1 seek=1048576 conv=notrunc 2>/dev/null
echo x > "$T/sp/bin/x"
tar -S -C "$T/sp" -czf "$T/sparse.tar.gz" opt bin/x
register okinc localhost/flake-test /bin/sh "  runtime:" "    runas: root"
printf 'include:\n  tar:\n    - %s\n    - %s\n' "$T/ok.tar" "$T/sparse.tar.gz" > "$FLAKE_ROOT/usr/share/flakes/okinc.d/inc.yaml"
out=$("$(app okinc)" -c 'cat /opt/ok/h; echo; stat -c %h /opt/ok/f; readlink /opt/ok/abs; head -c5 /opt/ok/abs' 2>&1)
assert_eq "include.tar: hard links inside, symlinks anywhere (inside the container)" \
        "linked 2 /etc/passwd root:" "$(echo $out)"
out=$("$(app okinc)" -c 'stat -c "%a %u:%g" /opt/ok/s' 2>&1)
assert_eq "include.tar: setuid bit and owner kept" "4755 1234:1234" "$out"
out=$("$(app okinc)" -c 'wc -c < /opt/sp/file; busybox tail -c +1048577 /opt/sp/file | head -c 4; echo; cat /bin/x; test -x /bin/cat && echo cat kept' 2>&1)
assert_eq "include.tar: sparse file (gzip), into an existing directory" "2097152 data x cat kept" "$(echo $out)"
podman rm --all --force --time 0 >/dev/null 2>&1
podman rmi --all --force >/dev/null 2>&1
export FLAKE_CONFIG="$saved_conf" CONTAINERS_STORAGE_CONF="$T/storage.conf"

# --- bad input ---------------------------------------------------------------
err=$("$(app echoer)" @bad/name 2>&1); rc=$?
assert_eq "invalid @NAME: usage status" 124 "$rc"
assert_contains "invalid @NAME: named" "$err" "@bad/name"
err=$("$(app echoer)" %bogus 2>&1); rc=$?
assert_eq "unknown %option: usage status" 124 "$rc"
assert_contains "unknown %option: named" "$err" "%bogus"
register noimg localhost/not-there /bin/true
err=$("$(app noimg)" 2>&1); rc=$?
assert_eq "missing image: pilot failure status" 125 "$rc"
assert_contains "missing image: named" "$err" "localhost/not-there"
register resnoimg localhost/not-there /bin/sh "  runtime:" "    runas: root" "    resume: true"
out=$(pty_run "$(app resnoimg) %progress -c true")
assert_contains "%progress: failure line when the launch fails" "$out" "Launching flake... failed"
echo "container: [broken" > "$FLAKE_ROOT/usr/share/flakes/broken.yaml"
ln -sf "$PILOT" "$FLAKE_ROOT/usr/bin/broken"
err=$("$(app broken)" 2>&1); rc=$?
assert_eq "broken registration: pilot failure status" 125 "$rc"
assert_contains "broken registration: file named" "$err" "broken.yaml"
assert_eq "broken registration: one line" 1 "$(printf '%s\n' "$err" | wc -l)"
err=$(FLAKE_PODMAN=/nonexistent/podman "$(app echoer)" hi 2>&1); rc=$?
assert_eq "podman missing: status 127" 127 "$rc"
assert_contains "podman missing: said" "$err" "podman is not installed"
err=$("$PILOT" 2>&1); rc=$?
assert_eq "called directly: usage status" 124 "$rc"
assert_eq "bad input leaves no container" 0 "$(n_containers)"
assert_eq "bad input leaves no cid file" "" "$(ls "$IDS/0" | grep '\.cid$')"

# --- flake-ctl podman pull / load into the flake store ----------------------
mkdir -p "$T/registry"
cat > "$T/registry.yml" <<EOY
version: 0.1
storage: {filesystem: {rootdirectory: $T/registry}}
http: {addr: 127.0.0.1:5000}
log: {level: error}
EOY
docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 50); do curl -fs http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break; sleep 0.1; done
podman push -q --tls-verify=false localhost/flake-test:latest 127.0.0.1:5000/pulled:1 >/dev/null 2>&1
check "flake-ctl podman pull from a local registry" "$CTL" podman pull --uri 127.0.0.1:5000/pulled:1
register pulled 127.0.0.1:5000/pulled:1 /bin/echo
assert_eq "a pulled image runs as a flake" pulled-ok "$("$(app pulled)" pulled-ok)"
out=$("$CTL" podman pull --uri 127.0.0.1:5000/nothing:1 2>&1); rc=$?
assert_eq "pull of a missing image fails" 1 "$rc"
assert_contains "... with podman's reason, in our words" "$out" "podman pull 127.0.0.1:5000/nothing:1 failed twice (status 125):"
assert_eq "... in one line" 1 "$(printf '%s\n' "$out" | wc -l)"
check "pull with the docker:// prefix" "$CTL" podman pull --uri docker://127.0.0.1:5000/pulled:1

# Images pulled at launch (issue 11 point 4): in the registry, not in the
# flake store. The launch pulls them (flake-pull, no systemd here) only once
# podman said the image is missing, then runs the app; stdin still reaches it.
podman push -q --tls-verify=false localhost/flake-test:latest 127.0.0.1:5000/atlaunch:1 >/dev/null 2>&1
podman push -q --tls-verify=false localhost/flake-test:latest 127.0.0.1:5000/atlaunchr:1 >/dev/null 2>&1
check_fails "at launch: the image is not in the flake store" podman image exists 127.0.0.1:5000/atlaunch:1
register atlaunch 127.0.0.1:5000/atlaunch:1 /bin/sh
out=$(echo data | "$(app atlaunch)" -c 'cat; echo ran; exit 3' 2>"$T/atlaunch.err"); rc=$?
assert_eq "one-shot: the missing image is pulled at launch, then the app runs (stdin, status)" \
        "3 $(printf 'data\nran')" "$rc $out"
check "... into the flake store" podman image exists 127.0.0.1:5000/atlaunch:1
assert_not_contains "... quietly (no pull output without %progress)" "$(cat "$T/atlaunch.err")" "Writing manifest"
out=$("$(app atlaunch)" -c 'echo again' 2>&1); rc=$?
assert_eq "... the next launch just runs" "0 again" "$rc $out"
register atlaunchr 127.0.0.1:5000/atlaunchr:1 /bin/sh "  runtime:" "    runas: root" "    resume: true"
out=$(echo data | "$(app atlaunchr)" -c 'cat; echo resumed' 2>"$T/atlaunchr.err"); rc=$?
assert_eq "resume: the missing image is pulled at launch, the container created" \
        "0 $(printf 'data\nresumed')" "$rc $out"
assert_eq "... and podman's complaint about the missing image is not shown" "" "$(cat "$T/atlaunchr.err")"
podman rm -f --time 0 "$(cat "$IDS/0/atlaunchr.cid")" >/dev/null 2>&1
register atlaunchbad 127.0.0.1:5000/nothing:2 /bin/echo "  runtime:" "    runas: root" "    resume: true"
err=$("$(app atlaunchbad)" x 2>&1); rc=$?
assert_eq "failed pull at launch: status 125" 125 "$rc"
assert_eq "... one line" 1 "$(printf '%s\n' "$err" | wc -l)"
assert_contains "... naming the flake, the pull and the image" "$err" "atlaunchbad: pulling its images failed: podman pull 127.0.0.1:5000/nothing:2 failed"
register atlaunchbad1 127.0.0.1:5000/nothing:3 /bin/echo
err=$("$(app atlaunchbad1)" x 2>&1); rc=$?
assert_eq "failed pull at a one-shot launch: status 125" 125 "$rc"
assert_contains "... the pilot's line last (podman's 'image not known' before it)" "$(printf '%s\n' "$err" | tail -n 1)" \
        "atlaunchbad1: pulling its images failed: podman pull 127.0.0.1:5000/nothing:3 failed"
assert_eq "failed pulls leave no container" 0 "$(n_containers)"
podman save -q -o "$T/app-1.2.tar" localhost/flake-test:latest
podman tag localhost/flake-test:latest localhost/loaded:1
podman save -q -o "$T/app-1.10.tar" localhost/loaded:1
podman rmi -f localhost/loaded:1 >/dev/null
check "flake-ctl podman load --oci with the prefix fallback" "$CTL" podman load --oci "$T/app-1."
assert_eq "load picked the last match" yes "$(podman image exists localhost/loaded:1 && echo yes)"
check_fails "load of a missing archive fails" "$CTL" podman load --oci "$T/nothing"

# register --info: the <name>.yaml an image carries in its root.
mkdir -p "$T/infofiles"
printf 'container:\n  name: info-img\n' > "$T/infofiles/info-img.yaml"
build_image localhost/info-img:1 "$T/infofiles"
out=$("$CTL" podman register --container localhost/info-img:1 --info 2>&1)
assert_eq "register --info prints the image's info file" "$(cat "$T/infofiles/info-img.yaml")" "$out"
check "register --info registers nothing" test ! -e "$FLAKE_ROOT/usr/share/flakes/info-img.yaml"
out=$("$CTL" podman register --container localhost/flake-test --info 2>&1); rc=$?
assert_eq "register --info without an info file fails" 1 "$rc"
assert_contains "... naming the file and the image" "$out" "No info file flake-test.yaml found in container localhost/flake-test"
assert_eq "... and leaves the image unmounted" "" "$(podman image mount 2>/dev/null)"

finish
