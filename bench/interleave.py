#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""interleave.py -n ROUNDS NAME=COMMAND...: runs every COMMAND (a shell
word list, split with shlex) once per round, the order rotated each round so
no variant always runs first (warm caches) or last, and prints one line per
variant: "NAME median_ms min_ms max_ms cpu_ms", cpu_ms being the median CPU
time (user + system) of the command and the processes it waited for, on
this host (what runs inside a container under its own conmon is not
counted). Each command gets stdin and stdout
from /dev/null and stderr discarded; a failing command aborts the benchmark.
One unmeasured warm-up round comes first. Used by bench/podman-launch.sh,
where two cores are shared with other work: interleaving and medians keep
the comparison side by side."""
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time

args = sys.argv[1:]
rounds = 20
if args[:1] == ['-n']:
    rounds = int(args[1])
    args = args[2:]
variants = [(a.split('=', 1)[0], shlex.split(a.split('=', 1)[1])) for a in args]
times = {name: [] for name, _ in variants}
cpu = {name: [] for name, _ in variants}

def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000

def run(cmd, name=None):
    t = time.perf_counter()
    c = cpu_ms()
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        sys.exit(f'{shlex.join(cmd)} failed with {r.returncode}')
    if name:
        cpu[name].append(cpu_ms() - c)
    return (time.perf_counter() - t) * 1000

for _, cmd in variants:
    run(cmd)
for i in range(rounds):
    k = i % len(variants)
    for name, cmd in variants[k:] + variants[:k]:
        times[name].append(run(cmd, name))
for name, _ in variants:
    t = times[name]
    print(f'{name} {statistics.median(t):.1f} {min(t):.1f} {max(t):.1f} {statistics.median(cpu[name]):.1f}')
