#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Counts test cases over one or more meson build dirs and prints the
closing line CI reads: "N passed, N failed".

Each TAP line and each cmocka case counts once; a test program that failed
without a failing case of its own (a crash, a timeout, a bail-out) counts as
one failure, so nothing can fail silently."""
import json
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b', re.M)
CMOCKA = re.compile(r'^\[\s+(OK|FAILED)\s+\] (?!\d+ test)', re.M)


def count(build):
    passed = failed = 0
    with open(f'{build}/meson-logs/testlog.json') as f:
        for line in f:
            t = json.loads(line)
            out = t.get('stdout') or ''
            p = f_ = 0
            for m in TAP.finditer(out):
                if m.group(1) == 'ok':
                    p += 1
                else:
                    f_ += 1
            for m in CMOCKA.finditer(out):
                if m.group(1) == 'OK':
                    p += 1
                else:
                    f_ += 1
            if t['result'] not in ('OK', 'EXPECTEDFAIL') and f_ == 0:
                f_ = 1
            if p == 0 and f_ == 0:
                p = 1
            if f_:
                print(f'FAILED: {build}: {t["name"]} ({t["result"]})')
            passed += p
            failed += f_
    return passed, failed


total_p = total_f = 0
for b in sys.argv[1:]:
    p, f = count(b)
    print(f'{b}: {p} passed, {f} failed')
    total_p += p
    total_f += f
print(f'{total_p} passed, {total_f} failed')
sys.exit(1 if total_f else 0)
