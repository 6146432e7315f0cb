#!/bin/bash
# Launch overhead of podman-pilot, side by side with bare podman on the same
# image, command and podman options (hermetic store in a temp dir, the test
# containers.conf of tests/integration/podman/setup.sh, so the same network
# setting -- none -- for all):
#  1. one-shot via the pilot vs "podman run --rm --init -i --pull=never
#     --entrypoint /bin/true IMG" (what the pilot runs)    (target <= 1.05),
#     and what --init (catatonit as the container's PID 1) costs
#  2. resume via the pilot, a session with the container's agent, vs
#     "podman exec -i CID /bin/true" into the same container (target <= 0.1),
#     and via the pilot without the agent (runtime.agent: false: one podman
#     exec per call) vs the same bare podman exec          (target <= 1.05);
#     with the pilot's own cost per call: its CPU time (user + system; on
#     the agent path it starts no process on the host)
#  3. the pilot vs a script replaying the original tool's podman sequence for
#     one launch (create, container exists, ps, start --attach, rm, image
#     prune)                                               (target >= 2x faster)
# All variants run interleaved, order rotated per round; medians reported.
# Plus the pilot's own peak RSS (VmHWM of the pilot process when it starts
# podman, read by a stand-in podman: podman's memory is not counted).
# Usage: bench/podman-launch.sh [ROUNDS]
set -u
N=${1:-20}
export FLAKE_BUILD_ROOT=${FLAKE_BUILD_ROOT:-$(cd "$(dirname "$0")/.." && pwd)/build}
export FLAKE_SOURCE_ROOT=${FLAKE_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
# The pilot mounts flake-agent from LIBEXECDIR into resumed containers.
export FLAKE_LIBEXECDIR=${FLAKE_LIBEXECDIR:-$FLAKE_BUILD_ROOT/tests/bin}
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/podman/setup.sh"
require python3
build_image localhost/bench:latest
register one localhost/bench /bin/true
register res localhost/bench /bin/true "  runtime:" "    runas: root" "    resume: true"
register resx localhost/bench /bin/true "  runtime:" "    runas: root" "    resume: true" "    agent: false"
"$(app res)" </dev/null   # create the resumed containers
"$(app resx)" </dev/null
[ -S "$IDS/0/res.agent/socket/agent.sock" ] || { echo "no agent in the resumed container" >&2; exit 1; }
cid=$(cat "$IDS/0/res.cid")
cidx=$(cat "$IDS/0/resx.cid")

cat > "$T/original.sh" <<EOF
#!/bin/bash
# The original podman-pilot's calls for one one-shot launch.
f="$T/orig.cid"; rm -f "\$f"
podman create --cidfile "\$f" --interactive --entrypoint /bin/true localhost/bench >/dev/null
podman container exists "\$(cat "\$f")"
podman ps --format '{{.ID}}' >/dev/null
podman start --attach --interactive "\$(cat "\$f")"
podman rm --force "\$(cat "\$f")" >/dev/null
podman image prune --force >/dev/null
EOF
chmod +x "$T/original.sh"

res=$(python3 "$FLAKE_SOURCE_ROOT/bench/interleave.py" -n "$N" \
        "pilot_run=$(app one)" \
        "bare_run=podman run --rm --init --interactive --pull=never --entrypoint /bin/true localhost/bench" \
        "bare_run_noinit=podman run --rm --interactive --pull=never --entrypoint /bin/true localhost/bench" \
        "pilot_exec=$(app res)" \
        "bare_exec=podman exec --interactive $cid /bin/true" \
        "pilot_exec_noagent=$(app resx)" \
        "bare_exec_noagent=podman exec --interactive $cidx /bin/true" \
        "original=$T/original.sh") || exit 1
med() { awk -v n="$1" '$1 == n { print $2 }' <<<"$res"; }
cpu() { awk -v n="$1" '$1 == n { print $5 }' <<<"$res"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

printf '#!/bin/sh\ngrep VmHWM /proc/$PPID/status > %s\n' "$T/hwm" > "$T/fake-podman"
chmod +x "$T/fake-podman"
FLAKE_PODMAN="$T/fake-podman" "$(app one)" </dev/null
rss_one=$(awk '{ print $2 }' "$T/hwm")
FLAKE_PODMAN="$T/fake-podman" "$(app resx)" </dev/null
rss_res=$(awk '{ print $2 }' "$T/hwm")

echo "rounds: $N, interleaved (median ms, min, max, median CPU ms on the host per variant):"
sed 's/^/  /' <<<"$res"
echo "1. one-shot: pilot $(med pilot_run) ms, podman run --rm $(med bare_run) ms," \
     "ratio $(ratio "$(med pilot_run)" "$(med bare_run)") (target <= 1.05)"
echo "   --init: podman run --rm $(med bare_run) ms with, $(med bare_run_noinit) ms without," \
     "ratio $(ratio "$(med bare_run)" "$(med bare_run_noinit)")"
echo "2. resume:   pilot (agent) $(med pilot_exec) ms, podman exec -i into the same container $(med bare_exec) ms," \
     "ratio $(ratio "$(med pilot_exec)" "$(med bare_exec)") (target <= 0.1)"
echo "   pilot's own cost per resumed call: $(cpu pilot_exec) ms CPU (podman exec: $(cpu bare_exec) ms CPU)"
echo "   without the agent: pilot $(med pilot_exec_noagent) ms, podman exec $(med bare_exec_noagent) ms," \
     "ratio $(ratio "$(med pilot_exec_noagent)" "$(med bare_exec_noagent)") (target <= 1.05)"
echo "3. original sequence $(med original) ms vs pilot $(med pilot_run) ms:" \
     "pilot $(ratio "$(med original)" "$(med pilot_run)")x faster (target >= 2)"
echo "peak RSS of podman-pilot itself (VmHWM when it starts podman): one-shot ${rss_one} KiB, resume without the agent ${rss_res} KiB"
