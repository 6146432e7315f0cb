#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""measure.py [-n RUNS] -- COMMAND...: median wall time (ms) and peak RSS
(KiB) of COMMAND over RUNS runs, as "median_ms peak_rss_kib". Output of the
command is discarded. Used by the bench/ scripts."""
import os
import resource
import statistics
import subprocess
import sys
import time

args = sys.argv[1:]
runs = 5
if args[:1] == ['-n']:
    runs = int(args[1])
    args = args[2:]
if args[:1] == ['--']:
    args = args[1:]

times, rss = [], 0
for _ in range(runs):
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.execvp(args[0], args)
    _, status, usage = os.wait4(pid, 0)
    times.append((time.perf_counter() - t) * 1000)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f'{args[0]} failed with {os.waitstatus_to_exitcode(status)}')
    rss = max(rss, usage.ru_maxrss)
print(f'{statistics.median(times):.2f} {rss}')
