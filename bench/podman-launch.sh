#!/bin/bash
# Launch overhead of podman-pilot, side by side with bare podman on the same
# image and command (hermetic store in a temp dir):
#  1. one-shot via the pilot vs "podman run --rm"          (target <= 1.05)
#  2. resume via the pilot vs "podman exec"                (target <= 1.05)
#  3. the pilot vs the original tool's podman sequence for one launch
#     (create, container exists, ps, start --attach, rm, image prune)
#                                                          (target: >= 2x faster)
# plus the pilot's peak RSS. Usage: bench/podman-launch.sh [ROUNDS]
set -u
N=${1:-20}
export FLAKE_BUILD_ROOT=${FLAKE_BUILD_ROOT:-$(cd "$(dirname "$0")/.." && pwd)/build}
export FLAKE_SOURCE_ROOT=${FLAKE_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/podman/setup.sh"
build_image localhost/bench:latest
register one localhost/bench /bin/true
register res localhost/bench /bin/true "  runtime:" "    runas: root" "    resume: true"
"$(app res)"   # create the resumed container
cid=$(cat "$IDS/0/res.cid")

t() { local s e; s=$(date +%s%N); for _ in $(seq "$N"); do "$@" >/dev/null 2>&1; done; e=$(date +%s%N); echo $(( (e - s) / N / 1000 )); }
original() {
        local f="$T/orig.cid"; rm -f "$f"
        podman create --cidfile "$f" --entrypoint /bin/true localhost/bench >/dev/null
        podman container exists "$(cat "$f")"
        podman ps --format '{{.ID}}' >/dev/null
        podman start --attach "$(cat "$f")"
        podman rm --force "$(cat "$f")" >/dev/null
        podman image prune --force >/dev/null
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# interleave warm-up, then measure each pair back to back
t podman run --rm --entrypoint /bin/true localhost/bench >/dev/null
bare_run=$(t podman run --rm --pull=never --entrypoint /bin/true localhost/bench)
pilot_run=$(t "$(app one)")
bare_exec=$(t podman exec -i "$cid" /bin/true)
pilot_exec=$(t "$(app res)")
orig=$(t original)
pilot_run2=$(t "$(app one)")
rss=$( { /usr/bin/time -f '%M' "$(app one)" >/dev/null; } 2>&1 | tail -1)

echo "rounds: $N (mean microseconds per launch)"
echo "1. one-shot: pilot $pilot_run us, podman run --rm $bare_run us, ratio $(ratio "$pilot_run" "$bare_run") (target <= 1.05)"
echo "2. resume:   pilot $pilot_exec us, podman exec $bare_exec us, ratio $(ratio "$pilot_exec" "$bare_exec") (target <= 1.05)"
echo "3. original sequence $orig us vs pilot $pilot_run2 us: pilot $(ratio "$orig" "$pilot_run2")x faster (target >= 2)"
echo "peak RSS of podman-pilot (one-shot, excluding podman): ${rss} KiB"
