#!/bin/bash
# SPDX-License-Identifier: MIT
# The YAML loader's scaling, through flake-generator (the caller with a
# deadline: systemd gives a generator 90 s). The same 100,000 keys are loaded
# once as one flake of 100,000 keys and once as 100 flakes of 1,000 keys; the
# ratio of the two times is ~1 when loading is linear in the number of keys
# (it was ~100 when every key was compared with all earlier ones). Then the
# worst inputs the limits allow (flakes.yaml(5), LIMITS): a 1 MiB file at the
# node cap and an alias bomb, both refused, and how long that takes.
#
#   bench/loader.sh [BUILD_DIR] [RUNS]
set -eu

build=${1:-build}
runs=${2:-5}
generator="$build/generator/flake-generator"
measure="$(dirname "$0")/measure.py"
[ -x "$generator" ] || { echo "build first: $generator" >&2; exit 1; }

tmp=$(mktemp -d /dev/shm/flake-bench.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# make_flake FILE FIRST COUNT: a container flake with COUNT extra top-level
# keys (unknown keys: warnings, which are capped, as a hostile file has).
make_flake() {
        python3 - "$@" <<'PY'
import sys
path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    f.write("container:\n  name: img\n")
    # Short values: 100,000 keys must stay below the 1 MiB file cap.
    f.writelines(f"k{i}: 1\n" for i in range(first, first + count))
PY
}

mkdir "$tmp/one" "$tmp/hundred" "$tmp/cap" "$tmp/bomb"
make_flake "$tmp/one/big.yaml" 0 100000
for ((i = 0; i < 100; i++)); do
        make_flake "$tmp/hundred/f$i.yaml" $((i * 1000)) 1000
done
python3 - "$tmp/cap/cap.yaml" <<'PY'
import sys
# As many nodes as 1 MiB holds: a flow sequence of one-letter items.
open(sys.argv[1], "w").write("[" + ",".join(["a"] * (1024 * 1024 // 2 - 1)) + "]\n")
PY
python3 - "$tmp/bomb/bomb.yaml" <<'PY'
import sys
lines = ["a0: &a0 [" + ",".join(["x"] * 9) + "]"]
for i in range(1, 10):
    lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY

run() {
        rm -rf "$tmp/out"
        FLAKES_DIR="$1" FLAKE_CONFIG=/nonexistent python3 "$measure" -n "$runs" -- \
                "$generator" "$tmp/out" "$tmp/out" "$tmp/out" | cut -d' ' -f1
}

# The two loads must succeed, or the ratio compares refusals.
generated() {
        [ -f "$tmp/out/flake-pull@$1.service.d/50-flake.conf" ] ||
                { echo "flake $1 was not generated: $(FLAKES_DIR="$2" FLAKE_CONFIG=/nonexistent "$generator" --dry-run 2>&1 | grep -m1 error)" >&2; exit 1; }
}

printf '%-40s %10s\n' input "wall (ms)"
one=$(run "$tmp/one")
generated big "$tmp/one"
hundred=$(run "$tmp/hundred")
generated f99 "$tmp/hundred"
printf '%-40s %10.1f\n' "1 flake x 100,000 keys" "$one" "100 flakes x 1,000 keys" "$hundred"
printf '%-40s %10.1f\n' "1 MiB at the node cap (refused)" "$(run "$tmp/cap")" \
        "alias bomb, 9^10 nodes (refused)" "$(run "$tmp/bomb")"
awk -v a="$one" -v b="$hundred" 'BEGIN { printf "ratio 100,000 keys / (1,000 keys x 100): %.2f (1 = linear)\n", a / b }'
