#!/bin/bash
# SPDX-License-Identifier: MIT
# flake-generator at scale: wall time and peak RSS for 10 / 1,000 / 10,000
# flakes (half container flakes, half VM flakes with network, pull and
# systemd: settings), output on tmpfs as /run/systemd/generator is. Each
# size runs 5 times; the median wall time is reported. Target: 1,000 flakes
# in under 50 ms (generators delay every boot and daemon-reload).
#
#   bench/generator.sh [BUILD_DIR] [SIZES...]
set -eu

build=${1:-build}
shift || true
sizes=${*:-10 1000 10000}
generator="$build/generator/flake-generator"
[ -x "$generator" ] || { echo "build first: $generator" >&2; exit 1; }

tmp=$(mktemp -d /dev/shm/flake-bench.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make_flakes() {
        local dir=$1 n=$2 i
        mkdir -p "$dir"
        for ((i = 0; i < n; i++)); do
                if ((i % 2)); then
                        cat >"$dir/app-$i.yaml" <<EOF
container:
  name: registry.example.org/app-$i
  target_app_path: /usr/bin/app
  host_app_path: /usr/bin/app-$i
  runtime:
    runas: root
    podman:
      - "--rm"
EOF
                else
                        cat >"$dir/vm-$i.yaml" <<EOF
vm:
  name: vm-$i
  host_app_path: /usr/bin/vm-$i
  pull:
    url: https://images.example.org/vm-$i.tar.xz
  runtime:
    network:
      ip: 10.0.0.2/24
    firecracker:
      boot_args: ["init=/usr/sbin/sci", "console=ttyS0"]
      rootfs_image_path: /var/lib/firecracker/images/vm-$i/rootfs
      kernel_image_path: /var/lib/firecracker/images/vm-$i/kernel
      mem_size_mib: 512
systemd:
  start_at_boot: true
  MemoryMax: 1G
EOF
                fi
        done
}

# Runs the generator 5 times; prints "median_wall_s median_cpu_s max_rss_kib"
# (CPU = user + system: steadier than wall time on a shared machine).
measure() {
        python3 - "$@" <<'PY'
import os, resource, shutil, subprocess, sys, time
gen, flakes, out = sys.argv[1:4]
env = dict(os.environ, FLAKES_DIR=flakes, FLAKE_CONFIG="/nonexistent")
times, cpu = [], []
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(out, ignore_errors=True)
    os.mkdir(out)
    t = time.perf_counter()
    subprocess.run([gen, out, out, out], env=env, check=True)
    times.append(time.perf_counter() - t)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
times.sort()
cpu.sort()
print(f"{times[len(times) // 2]:.6f} {cpu[len(cpu) // 2]:.6f} {rss}")
PY
}

printf '%-8s %10s %10s %15s %12s %8s\n' flakes "wall (ms)" "CPU (ms)" "wall/flake (us)" "peak RSS" "files"
for n in $sizes; do
        make_flakes "$tmp/flakes-$n" "$n"
        read -r secs cpu rss < <(measure "$generator" "$tmp/flakes-$n" "$tmp/out-$n")
        files=$(find "$tmp/out-$n" -type f -o -type l | wc -l)
        awk -v n="$n" -v s="$secs" -v c="$cpu" -v r="$rss" -v f="$files" 'BEGIN {
                printf "%-8d %10.1f %10.1f %15.1f %8.1f MiB %8d\n", n, s * 1000, c * 1000, s * 1e6 / n, r / 1024, f }'
done
