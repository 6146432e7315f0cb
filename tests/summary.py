#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Counts test cases over one or more meson build dirs and prints the
closing line CI reads: "N passed, N failed, N skipped".

What counts:
 - each TAP line: "ok" passes, "not ok" fails, either with "# SKIP" is
   skipped, "not ok ... # TODO" is skipped (a known gap, not a pass); a
   plan "1..0 # SKIP" skips the whole program;
 - each cmocka case between "[==========] Running" and "test(s) run."
   ([ OK ], [ FAILED ], [ SKIPPED ]; the summary after it lists failed and
   skipped cases again and is not counted twice);
 - a libFuzzer run that finished ("Done N runs") is one pass.
A test program that failed without a failing case of its own (a crash, a
timeout, a bail-out) counts as one failure; one that meson skipped (exit 77)
as one skip; and one that passed without printing anything countable is a
failure: a test whose output cannot be read proves nothing.

A build dir where make check wrote build-result counts its build as one
case too: "ok" passes, anything else fails (with -Werror, a warning); a
build with no test log (the clang build runs no tests) counts only that."""
import glob
import json
import os
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b(.*)$')
TAP_DIRECTIVE = re.compile(r'#\s*(SKIP|TODO)\b', re.I)
TAP_SKIP_ALL = re.compile(r'^1\.\.0\s*#\s*SKIP\b', re.I)
CMOCKA_START = re.compile(r'^\[=+\] Running \d+ test')
CMOCKA_END = re.compile(r'^\[=+\] \d+ test\(s\) run')
CMOCKA_CASE = re.compile(r'^\[\s+(OK|FAILED|SKIPPED)\s+\] ')
FUZZ_DONE = re.compile(r'^Done \d+ runs in ', re.M)


def count_output(out, err):
    """(passed, failed, skipped) of the cases one program printed."""
    p = f = s = 0
    in_cmocka = False
    skip_all = False
    for line in out.splitlines():
        if CMOCKA_START.match(line):
            in_cmocka = True
            continue
        if CMOCKA_END.match(line):
            in_cmocka = False
            continue
        if in_cmocka:
            m = CMOCKA_CASE.match(line)
            if m:
                kind = m.group(1)
                if kind == 'OK':
                    p += 1
                elif kind == 'FAILED':
                    f += 1
                else:
                    s += 1
            continue
        if TAP_SKIP_ALL.match(line):
            skip_all = True
            continue
        m = TAP.match(line)
        if m:
            d = TAP_DIRECTIVE.search(m.group(2))
            directive = d.group(1).upper() if d else None
            if directive == 'SKIP' or (directive == 'TODO' and m.group(1) == 'not ok'):
                s += 1
            elif m.group(1) == 'ok':
                p += 1
            else:
                f += 1
    if p == f == s == 0:
        if skip_all:
            s = 1
        elif FUZZ_DONE.search(out) or FUZZ_DONE.search(err):
            p = 1
    return p, f, s


def count_test(t):
    """(passed, failed, skipped, why it failed or None) of one test program."""
    p, f, s = count_output(t.get('stdout') or '', t.get('stderr') or '')
    result = t['result']
    why = None
    if result == 'SKIP':
        if p == f == 0:
            s = max(s, 1)
    elif result not in ('OK', 'EXPECTEDFAIL'):
        if f == 0:
            f = 1
        why = result
    elif p == f == s == 0:
        f = 1
        why = 'no countable output'
    elif f:
        why = result
    return p, f, s, why


def count(build):
    passed = failed = skipped = 0
    result = os.path.join(build, 'build-result')
    # testlog.json, and testlog-SETUP.json of meson test --setup SETUP
    logs = sorted(glob.glob(os.path.join(build, 'meson-logs', 'testlog*.json')))
    if os.path.exists(result):
        with open(result) as fh:
            if fh.read().strip() == 'ok':
                passed += 1
            else:
                failed += 1
                print(f'FAILED: {build}: the build')
    elif not logs:
        print(f'FAILED: {build}: neither built nor tested')
        return 0, 1, 0
    for log in logs:
        with open(log) as fh:
            for line in fh:
                t = json.loads(line)
                p, f, s, why = count_test(t)
                if f:
                    print(f'FAILED: {build}: {t["name"]} ({why or t["result"]})')
                passed += p
                failed += f
                skipped += s
    return passed, failed, skipped


def main(argv):
    total = [0, 0, 0]
    for b in argv[1:]:
        p, f, s = count(b)
        print(f'{b}: {p} passed, {f} failed, {s} skipped')
        total = [total[0] + p, total[1] + f, total[2] + s]
    print(f'{total[0]} passed, {total[1]} failed, {total[2]} skipped')
    return 1 if total[1] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
