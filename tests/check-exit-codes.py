#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The exit statuses each program documents are the ones its code returns
(TAP). The values come from the one header that defines them
(lib/flake/pilot-exit.h for the pilots, lib/vm/vm-runner.h for the VM
runner); a program's statuses are the macros its sources use; its man
page's EXIT STATUS section must list exactly those. The pilots' values are
distinct, and firecracker-pilot maps every runner status."""
import glob
import os
import re
import sys

SRC = os.environ.get('FLAKE_SOURCE_ROOT') or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from tap import Tap

tap = Tap()
check = tap.check


def read(p):
    with open(os.path.join(SRC, p), encoding='utf-8') as f:
        return f.read()


def macros(header, prefix):
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r'^#define (%s\w+)\s+(\d+)\b' % prefix, read(header), re.M)}


def used(sources, names):
    text = ''.join(read(os.path.relpath(p, SRC)) for p in sources)
    return {n for n in names if re.search(r'\b%s\b' % n, text)}


def documented(man):
    text = read(man)
    m = re.search(r'^# EXIT STATUS\n(.*?)^# ', text, re.M | re.S)
    if not m:
        return None
    codes = set()
    for line in m.group(1).splitlines():
        if re.fullmatch(r'(\*\d+\*)(, \*\d+\*)*', line.strip()):
            codes |= {int(c) for c in re.findall(r'\*(\d+)\*', line)}
    return codes


def main():
    pilot = macros('lib/flake/pilot-exit.h', 'PILOT_EXIT_')
    runner = macros('lib/vm/vm-runner.h', 'RUNNER_EXIT_')
    check(len(pilot) >= 6, 'pilot-exit.h defines the pilots\' statuses', 'found %d' % len(pilot))
    check(len(set(pilot.values())) == len(pilot), 'each pilot status has one meaning',
          'values %s' % sorted(pilot.values()))
    check(len(set(runner.values())) == len(runner), 'each runner status has one meaning',
          'values %s' % sorted(runner.values()))
    # Nobody defines a status of these kinds beside the headers.
    for p in glob.glob(os.path.join(SRC, 'helpers/*/*.[ch]')) + glob.glob(os.path.join(SRC, 'ctl/*.[ch]')):
        bad = re.findall(r'^#define ((?:PILOT|RUNNER)_EXIT_\w+)', read(os.path.relpath(p, SRC)), re.M)
        if bad:
            check(False, '%s defines no exit status' % os.path.relpath(p, SRC), 'defines ' + ', '.join(bad))

    standard = {'EXIT_SUCCESS': 0, 'EXIT_FAILURE': 1}
    programs = [
        ('podman-pilot', 'man/podman-pilot.8.scd', 'helpers/podman-pilot', pilot),
        ('firecracker-pilot', 'man/firecracker-pilot.8.scd', 'helpers/firecracker-pilot', pilot),
        ('flake-vm', 'man/flake-vm@.service.8.scd', 'helpers/vm', {**runner, **standard}),
    ]
    for name, man, src, table in programs:
        sources = glob.glob(os.path.join(SRC, src, '*.[ch]'))
        returns = {table[n] for n in used(sources, table)}
        if name != 'flake-vm':
            returns.discard(0)
        doc = documented(man)
        if doc is None:
            check(False, '%s documents its exit statuses' % name, '%s has no EXIT STATUS section' % man)
            continue
        check(doc == returns, '%s documents the statuses it returns (%s)' % (name, sorted(returns)),
              'undocumented %s, documented but never returned %s' % (sorted(returns - doc), sorted(doc - returns)))

    control = read('helpers/firecracker-pilot/vm-control.c')
    unmapped = [n for n in runner if not re.search(r'case %s:' % n, control)]
    check(not unmapped, 'firecracker-pilot maps every runner status', 'unmapped ' + ', '.join(unmapped))

    return tap.report()


if __name__ == '__main__':
    sys.exit(main())
