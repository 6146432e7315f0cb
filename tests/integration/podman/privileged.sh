#!/bin/bash
# runas-root flakes for callers who are not root (issue 12.3, 11.2): the
# launch service (podman-pilot --serve behind a socket, as flake-launch@ is)
# runs them as root from root's registration only; nothing of the caller's
# environment (FLAKE_ROOT, FLAKES_DIR, FLAKE_CONFIG, FLAKE_PODMAN, PATH,
# CONTAINERS_CONF, the values of %VAR) chooses what root runs. Before it, the
# pilot ran "sudo --preserve-env=... --user root $FLAKE_PODMAN ..." with the
# caller's registration: any sudoers rule for it gave root away.
#
# The service runs here as the units run it: one "podman-pilot --serve" per
# connection (systemd-socket-activate --accept --inetd), as root, in a
# mount namespace of its own where /etc and /usr/share carry the system's
# registrations (overlays: the host is not touched) and /run/flakes is a
# tmpfs. It is started with a hostile environment, which it must ignore as
# well. The caller is "nobody", with the gid of group flake as a
# supplementary group (setpriv), or without it.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/podman/setup.sh"
require unshare nsenter setpriv systemd-socket-activate script

FLAKE_GID=4242
# One containers.conf for our podman and the service's (/etc/containers in
# its namespace): podman's state must look the same from both.
cp "$CONTAINERS_CONF" "$T/containers.conf"
export CONTAINERS_CONF="$T/containers.conf"
build_image localhost/flake-test:latest
chmod 755 "$T"          # nobody runs the build's pilot and reads its own root

# --- the system, as the service sees it ------------------------------------
S="$T/sys"
mkdir -p "$S/etc/flakes" "$S/etc/containers" "$S/share/flakes" "$S/w-etc" "$S/w-share"
cp "$T/storage.conf" "$S/etc/flakes/storage.conf"
cp "$CONTAINERS_CONF" "$S/etc/containers/containers.conf"
{ cat /etc/group; echo "flake:x:$FLAKE_GID:"; } > "$S/etc/group"
# sysreg NAME IMAGE TARGET [yaml lines for container.runtime...]
sysreg() {
        local name="$1" image="$2" target="$3"; shift 3
        {
                echo "container:"
                echo "  name: $image"
                echo "  target_app_path: $target"
                echo "  host_app_path: /usr/bin/$name"
                for l in "$@"; do echo "$l"; done
        } > "$S/share/flakes/$name.yaml"
}

# --- the caller's side: its own FLAKE_ROOT, which it controls ---------------
C="$T/caller"
mkdir -p "$C/usr/share/flakes" "$C/usr/bin" "$C/run/flakes" "$C/etc"
# callreg NAME [yaml lines]: what the caller's environment points the pilot
# at: another image, another option, runas root.
callreg() {
        local name="$1"; shift
        {
                echo "container:"
                echo "  name: localhost/evil"
                echo "  target_app_path: /bin/evil"
                echo "  host_app_path: /usr/bin/$name"
                echo "  runtime:"
                echo "    runas: root"
                for l in "$@"; do echo "$l"; done
        } > "$C/usr/share/flakes/$name.yaml"
        ln -sf "$PILOT" "$C/usr/bin/$name"
}
SOCK="$C/run/flakes/launch.sock"
# Whatever the caller's environment names logs here if it is ever run.
mkdir -p "$T/evilbin" "$T/evidence"
chmod 1777 "$T/evidence"
for b in sudo podman evil-podman; do
        printf '#!/bin/sh\necho "%s $*" >> %s/evidence/evil.log\nexit 99\n' "$b" "$T" > "$T/evilbin/$b"
        chmod 755 "$T/evilbin/$b"
done
printf '[engine]\nruntime = "/nonexistent/evil-runtime"\n' > "$T/evil.conf"
chmod 644 "$T/evil.conf"
EVIL_ENV=(FLAKE_ROOT="$C" FLAKE_CONFIG="$C/etc/flakes.yml" FLAKES_DIR="$C/usr/share/flakes"
          FLAKE_PODMAN="$T/evilbin/evil-podman" PATH="$T/evilbin:/usr/sbin:/usr/bin:/sbin:/bin"
          CONTAINERS_CONF="$T/evil.conf" CONTAINERS_STORAGE_CONF="$T/evil.conf"
          CONTAINERS_REGISTRIES_CONF="$T/evil.conf" FLAKE_RUNTIME_DIR="$C/run/flakes" EVIL=pwned)
member()     { setpriv --reuid=nobody --regid=nogroup --groups="$FLAKE_GID" env "${EVIL_ENV[@]}" "$@"; }
non_member() { setpriv --reuid=nobody --regid=nogroup --clear-groups env "${EVIL_ENV[@]}" "$@"; }
app() { printf '%s' "$C/usr/bin/$1"; }

# --- the service ------------------------------------------------------------
mkdir -p "$T/run-flakes"
SERVER_PID=
created_run_flakes=
podman_id() { [[ "$1" =~ ^[0-9a-f]{64}$ ]]; }
# (tests/lib.sh's trap runs podman_teardown; our own cleanup goes first)
service_teardown() {
        if [ -n "$SERVER_PID" ]; then
                in_ns podman rm --all --force --time 0 >/dev/null 2>&1
                kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null
        fi
        [ -n "$created_run_flakes" ] && rmdir /run/flakes 2>/dev/null
        podman_teardown
}
trap service_teardown EXIT
in_ns() { nsenter -t "$SERVER_PID" -m env CONTAINERS_STORAGE_CONF="$T/storage.conf" "$@"; }

# The service finds helpers in the built-in LIBEXECDIR only: flake-agent
# (podman-pilot(8), AGENT) is put there in its namespace, on an overlay of
# the nearest directory that exists.
top=$FLAKE_INSTALLED_LIBEXECDIR
while [ ! -d "$top" ]; do top=$(dirname "$top"); done
mkdir -p "$S/libexec" "$S/w-libexec"
unshare -m --propagation private sh -ec "
        mount -t overlay overlay -o lowerdir=/etc,upperdir=$S/etc,workdir=$S/w-etc /etc
        mount -t overlay overlay -o lowerdir=/usr/share,upperdir=$S/share,workdir=$S/w-share /usr/share
        mount -t overlay overlay -o lowerdir=$top,upperdir=$S/libexec,workdir=$S/w-libexec $top
        mkdir -p $FLAKE_INSTALLED_LIBEXECDIR
        cp $FLAKE_BUILD_ROOT/helpers/sci/flake-agent $FLAKE_INSTALLED_LIBEXECDIR/
        exec env -i ${EVIL_ENV[*]} FLAKE_LOG_LEVEL=debug \
                systemd-socket-activate --accept --inetd -l $SOCK $PILOT --serve
" 2>"$T/service.log" &
SERVER_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
# The unit's SocketMode=0660, SocketGroup=flake.
chgrp "$FLAKE_GID" "$SOCK"; chmod 0660 "$SOCK"
check "the service listens" test -S "$SOCK"
# /run/flakes of the service: a tmpfs in its namespace (/run/flakes itself
# may not exist on this host: the mount point is made there, in /run of
# the namespace, which is the host's tmpfs, and removed at the end).
[ -d /run/flakes ] || { mkdir /run/flakes; created_run_flakes=1; }
nsenter -t "$SERVER_PID" -m mount -t tmpfs -o mode=0755 tmpfs /run/flakes
check "the service's /run/flakes is private" in_ns test -d /run/flakes

# --- the hole: the caller's environment must not reach root -----------------
sysreg x localhost/flake-test:latest /bin/sh "  runtime:" "    runas: root" "    podman:" \
        "      - --env X=%EVIL" "      - --env HOMEVAR=%HOME"
callreg x "    podman:" "      - --privileged" "      - --env X=%EVIL"
out=$(member "$(app x)" -c 'echo "X=$X HOME=$HOMEVAR"; cat /etc/passwd | head -n 1' 2>"$T/err"); rc=$?
assert_eq "a member of group flake runs a runas-root flake without sudo" 0 "$rc"
assert_eq "... root's registration and image run, %VAR expands from nothing" \
        "$(printf '%s\n%s' 'X=$EVIL HOME=$HOME' 'root:x:0:0:root:/root:/bin/sh')" "$out"
check_fails "... neither sudo nor the caller's podman (FLAKE_PODMAN, PATH) ran" test -s "$T/evidence/evil.log"
[ -s "$T/evidence/evil.log" ] && diag "what would have run as root: $(cat "$T/evidence/evil.log")"
assert_not_contains "... nothing from the caller's registration (--privileged)" \
        "$(in_ns podman ps -a --format '{{.Image}} {{.Command}}' 2>&1)" evil

# --- streams, exit status, stdin, signals ------------------------------------
sysreg sh1 localhost/flake-test:latest /bin/sh "  runtime:" "    runas: root"
callreg sh1
member "$(app sh1)" -c 'echo out; echo err >&2; exit 7' >"$T/o" 2>"$T/e"
assert_eq "exit status of the app comes back" 7 $?
assert_eq "stdout is the caller's" out "$(cat "$T/o")"
assert_eq "stderr is separate" err "$(cat "$T/e")"
out=$(printf 'a\nb\n' | member "$(app sh1)" -c 'echo $(cat)')
assert_eq "stdin streams in" "a b" "$out"
out=$(member "$(app sh1)" -- -c 'echo "$0 $1"' '%remove' '@x' 2>&1)
assert_eq "arguments after -- reach the app verbatim" "%remove @x" "$out"
# On a terminal: the service's podman gets the caller's terminal itself.
printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --groups=%s env %s "$@"\n' \
        "$FLAKE_GID" "${EVIL_ENV[*]}" > "$T/as-member"
chmod 755 "$T/as-member"
rm -f "$T/pty.fifo"; mkfifo "$T/pty.fifo"
sleep 300 > "$T/pty.fifo" &
holder=$!
script -qec "$T/as-member $(app sh1) -c 'test -t 0 && test -t 1 && echo tty; exit 4'; rc=\$?; kill $holder; exit \$rc" \
        /dev/null < "$T/pty.fifo" > "$T/pty.out"; rc=$?
out=$(tr -d '\r' < "$T/pty.out")
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
assert_eq "on a terminal the app gets a terminal (--tty with the caller's)" tty "$out"
assert_eq "... and its exit status comes back" 4 "$rc"
# A window size change of the caller's terminal reaches the app.
out=$(python3 "$FLAKE_SOURCE_ROOT/tests/integration/vm/pty-run.py" 24 80 33 77 -- "$T/as-member" "$(app sh1)" \
        -c 'busybox stty size; trap "busybox stty size; exit 5" WINCH; sleep 0.5; echo RESIZE-NOW; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; exit 6' 2>&1)
rc=$?
assert_contains "the app starts with the caller's window size" "$out" "24 80"
assert_contains "... and sees it change (WINCH frame, SIGWINCH to podman)" "$out" "33 77"
assert_eq "... its exit status" 5 "$rc"
head -c 300000 /dev/urandom | base64 -w 0 > "$T/big"
out=$(member "$(app sh1)" -c 'wc -c' < "$T/big")
assert_eq "a large stdin arrives whole" "$(wc -c < "$T/big")" "$(echo $out)"

# (exec: $! must be the pilot, not a subshell running it)
(exec setpriv --reuid=nobody --regid=nogroup --groups="$FLAKE_GID" env "${EVIL_ENV[@]}" \
        "$(app sh1)" -c 'echo started; exec sleep 60' >"$T/sig.out" 2>&1) &
client=$!
for _ in $(seq 150); do grep -q started "$T/sig.out" && break; sleep 0.1; done
sleep 0.3       # (podman sets up its signal proxy just after the app starts)
t0=$(date +%s)
kill -TERM "$client"
wait "$client"; rc=$?
assert_eq "kill -TERM of the client ends the app (128+15)" 143 "$rc"
check "... at once" test $(( $(date +%s) - t0 )) -lt 10
for _ in $(seq 50); do [ -z "$(in_ns podman ps -aq)" ] && break; sleep 0.1; done
assert_eq "... and no container is left" "" "$(in_ns podman ps -aq 2>&1)"

(exec setpriv --reuid=nobody --regid=nogroup --groups="$FLAKE_GID" env "${EVIL_ENV[@]}" \
        "$(app sh1)" -c 'echo started; exec sleep 60' >"$T/hup.out" 2>&1) &
client=$!
for _ in $(seq 150); do grep -q started "$T/hup.out" && break; sleep 0.1; done
sleep 0.3
kill -KILL "$client"; wait "$client" 2>/dev/null
for _ in $(seq 100); do [ -z "$(in_ns podman ps -aq)" ] && break; sleep 0.1; done
assert_eq "a client killed outright: the connection's end stops the app" "" "$(in_ns podman ps -aq 2>&1)"

# --- who may ----------------------------------------------------------------
out=$(non_member "$(app sh1)" -c 'echo ran' 2>&1); rc=$?
assert_eq "a non-member is refused (the socket is 0660 root:flake)" 125 "$rc"
assert_eq "... with one line" 1 "$(printf '%s\n' "$out" | wc -l)"
assert_contains "... that says why" "$out" "only members of group flake may launch it"
chmod 0666 "$SOCK"
out=$(non_member "$(app sh1)" -c 'echo ran' 2>&1); rc=$?
chmod 0660 "$SOCK"
assert_eq "the service itself refuses a non-member that gets through" 125 "$rc"
assert_eq "... with one line" 1 "$(printf '%s\n' "$out" | wc -l)"
assert_contains "... from its peer credentials" "$out" "uid 65534 is not a member of group flake"

# Requests that are not "app, arguments, three descriptors, no environment".
cat > "$T/raw-client.py" <<'EOP'
import array, socket, struct, sys
def frame(t, session, payload):
    return b"FA" + bytes([1, t]) + struct.pack(">II", session, len(payload)) + payload
def exec_payload(argv, envp):
    strings = b"".join(x.encode() + b"\0" for x in argv + envp)
    return struct.pack(">BHHHH", 0, 24, 80, len(argv), len(envp)) + strings
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
hello = s.recv(16)
assert hello[3] == 1, hello
s.sendall(frame(1, 0, struct.pack(">HH", 1, 1)))
mode = sys.argv[2]
if mode == "env":
    fds = [0, 1, 2]
    payload = exec_payload(["sh1", "-c", "true"], ["PATH=/evil"])
elif mode == "nofds":
    fds = []
    payload = exec_payload(["sh1", "-c", "true"], [])
else:
    fds = [0, 1, 2]
    payload = exec_payload(["../sh1", "-c", "true"], [])
data = frame(2, 1, payload)
if fds:
    s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
else:
    s.sendall(data)
reply = s.recv(4096)
print("type", reply[3], reply[16:].decode(errors="replace"))
EOP
for mode in env nofds badname; do
        out=$(setpriv --reuid=nobody --regid=nogroup --groups="$FLAKE_GID" /usr/bin/python3 "$T/raw-client.py" "$SOCK" $mode 2>&1)
        assert_eq "a request with $mode is refused with an ERROR frame" \
                "type 10 a launch request is an app name, arguments, no environment and three descriptors" "$out"
done

mkdir -p "$T/nosock"
out=$(member env FLAKE_RUNTIME_DIR="$T/nosock" "$(app sh1)" -c true 2>&1); rc=$?
assert_eq "no launch service: the pilot's failure status" 125 "$rc"
assert_eq "... one line" 1 "$(printf '%s\n' "$out" | wc -l)"
assert_contains "... that says what to do" "$out" "does not exist (systemctl enable --now flake-launch.socket)"

sysreg plain localhost/flake-test:latest /bin/sh
callreg plain
out=$(member "$(app plain)" -c 'echo ran' 2>&1); rc=$?
assert_eq "a system flake that is not runas root is refused" 125 "$rc"
assert_contains "... saying so" "$out" "plain is not a runas-root flake"
callreg nothere
out=$(member "$(app nothere)" -c true 2>&1); rc=$?
assert_eq "a flake only the caller registered is unknown to the service" 125 "$rc"
assert_contains "... which looks in the system's flakes_dir only" "$out" \
        "No flake registration found for 'nothere' in /usr/share/flakes"
chmod 0666 "$S/share/flakes/sh1.yaml"
out=$(member "$(app sh1)" -c 'echo ran' 2>&1); rc=$?
chmod 0644 "$S/share/flakes/sh1.yaml"
assert_eq "a registration others may write is refused" 125 "$rc"
assert_contains "... naming it" "$out" "/usr/share/flakes/sh1.yaml is not root's own"

# The socket must be root's: a caller's own "service" gets nothing.
mv "$SOCK" "$SOCK.real"
python3 -c 'import socket,sys,os; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
chown nobody "$SOCK"
out=$(member "$(app sh1)" -c true 2>&1); rc=$?
rm -f "$SOCK"; mv "$SOCK.real" "$SOCK"
assert_eq "a socket not owned by root is refused" 125 "$rc"
assert_contains "... saying so" "$out" "is not a socket owned by root"

# --- provisioning needs root: include.tar, resume state ---------------------
mkdir -p "$T/inc/etc"; echo included > "$T/inc/etc/included"
tar -C "$T/inc" -cf "$T/inc.tar" etc
sysreg inc localhost/flake-test:latest /bin/sh "  runtime:" "    runas: root"
sed -i '1i include:\n  tar:\n    - '"$T/inc.tar" "$S/share/flakes/inc.yaml"
callreg inc
out=$(member "$(app inc)" -c 'cat /etc/included' 2>&1)
assert_eq "a flake with include.tar runs for a member" included "$out"

mkdir -p "$T/l1/usr/share/l1" "$T/delta/usr/share/delta"
echo layer1 > "$T/l1/usr/share/l1/file"
echo delta > "$T/delta/usr/share/delta/file"
build_image localhost/layer1:latest "$T/l1"
build_image localhost/delta:latest "$T/delta"
sysreg dlt localhost/delta:latest /bin/sh "  base_container: localhost/flake-test:latest" "  layers:" \
        "    - localhost/layer1:latest" "  runtime:" "    runas: root"
callreg dlt
out=$(member "$(app dlt)" -c 'cat /usr/share/l1/file /usr/share/delta/file; exit 3' 2>&1); rc=$?
assert_eq "a delta flake (base + layer, provisioned as root) runs for a member" "layer1 delta" "$(echo $out)"
assert_eq "... with its exit status" 3 "$rc"
assert_eq "... and leaves no container" "" "$(in_ns podman ps -aq 2>&1)"

sysreg res localhost/flake-test:latest /bin/sh "  runtime:" "    runas: root" "    resume: true"
callreg res
assert_eq "resume flake: first call" one "$(member "$(app res)" -c 'echo one' 2>&1)"
cid=$(in_ns cat /run/flakes/ids/65534/res.cid 2>&1)
check "... its container id is kept in root's /run/flakes/ids/65534" podman_id "$cid"
assert_eq "... which is root's, not the caller's" "0 700" "$(in_ns stat -c '%u %a' /run/flakes/ids/65534)"
assert_eq "resume flake: second call into the same container" "$cid" \
        "$(member "$(app res)" -c 'cat /proc/1/cgroup >/dev/null; echo '"$cid" 2>&1)"
# The service's calls go through the container's agent as well.
check "... through its agent (the socket in root's instance state)" \
        in_ns test -S /run/flakes/ids/65534/res.agent/socket/agent.sock
out=$(echo streamed | member "$(app res)" -c 'cat; echo err >&2; exit 3' 2>"$T/res.err"); rc=$?
assert_eq "resume through the service: stdin, stdout and exit status" "streamed 3" "$out $rc"
assert_eq "... stderr separate" err "$(cat "$T/res.err")"
out=$(python3 "$FLAKE_SOURCE_ROOT/tests/integration/vm/pty-run.py" 24 80 33 77 -- "$T/as-member" "$(app res)" \
        -c 'busybox stty size; trap "busybox stty size; exit 5" WINCH; sleep 0.5; echo RESIZE-NOW; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; exit 6' 2>&1)
rc=$?
assert_contains "resume through the service on a terminal: the caller's window size" "$out" "24 80"
assert_contains "... and its change" "$out" "33 77"
assert_eq "... and the exit status" 5 "$rc"
member "$(app res)" %remove -c true >/dev/null 2>&1
check_fails "%remove ends it" in_ns test -e /run/flakes/ids/65534/res.cid

diag "service log: $(tail -n 5 "$T/service.log")"
finish
