#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""TAP test of tests/summary.py: what it counts as passed, failed and
skipped, on the outputs meson records."""
import importlib.util
import os
import sys

spec = importlib.util.spec_from_file_location(
    'summary', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'summary.py'))
summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(summary)

CMOCKA_FAIL = """[==========] Running 3 test(s).
[ RUN      ] a
[       OK ] a
[ RUN      ] b
[  ERROR   ] --- 1 != 2
[  FAILED  ] b
[ RUN      ] c
[  SKIPPED ] c
[==========] 3 test(s) run.
[  PASSED  ] 1 test(s).
[  FAILED  ] 1 test(s), listed below:
[  FAILED  ] b
[  SKIPPED ] 1 test(s), listed below:
[  SKIPPED ] c

 1 FAILED TEST(S)
"""

CASES = [
    # (name, test record, (passed, failed, skipped))
    ('TAP ok and not ok', {'stdout': '1..2\nok 1 - a\nnot ok 2 - b\n', 'result': 'FAIL'}, (1, 1, 0)),
    ('TAP SKIP directive is a skip, not a pass', {'stdout': '1..2\nok 1 - a\nok 2 - b # SKIP no podman\n',
                                          'result': 'OK'}, (1, 0, 1)),
    ('TAP skip directive in lower case', {'stdout': 'ok 1 # skip why\n', 'result': 'OK'}, (0, 0, 1)),
    ('TAP not ok with TODO directive is a skip', {'stdout': 'not ok 1 - later # TODO\n', 'result': 'OK'}, (0, 0, 1)),
    ('TAP plan 1..0 with SKIP', {'stdout': '1..0 # SKIP no KVM\n', 'result': 'OK'}, (0, 0, 1)),
    ('meson SKIP (exit 77)', {'stdout': '', 'result': 'SKIP'}, (0, 0, 1)),
    ('cmocka cases counted once', {'stdout': CMOCKA_FAIL, 'result': 'FAIL'}, (1, 1, 1)),
    ('nothing countable is a failure', {'stdout': 'all good\n', 'result': 'OK'}, (0, 1, 0)),
    ('no output at all is a failure', {'stdout': '', 'result': 'OK'}, (0, 1, 0)),
    ('a crash after passing cases', {'stdout': 'ok 1\n', 'result': 'ERROR'}, (1, 1, 0)),
    ('a timeout', {'stdout': 'ok 1\nok 2\n', 'result': 'TIMEOUT'}, (2, 1, 0)),
    ('libFuzzer finished', {'stdout': '', 'stderr': 'Done 1234 runs in 60 second(s)\n', 'result': 'OK'},
     (1, 0, 0)),
    ('"ok" inside a word is not TAP', {'stdout': 'okay\nnot okay\nok 1\n', 'result': 'OK'}, (1, 0, 0)),
]

import contextlib
import shutil
import tempfile

failed = 0
print(f'1..{len(CASES) + 5}')
for i, (name, t, want) in enumerate(CASES, 1):
    p, f, s, _ = summary.count_test(t)
    if (p, f, s) == want:
        print(f'ok {i} - {name}')
    else:
        failed += 1
        print(f'not ok {i} - {name}')
        print(f'# expected passed, failed, skipped = {want}, got {(p, f, s)}')


def build_dir(result, log, logname='testlog.json'):
    d = tempfile.mkdtemp()
    if result is not None:
        with open(os.path.join(d, 'build-result'), 'w') as fh:
            fh.write(result + '\n')
    if log is not None:
        os.makedirs(os.path.join(d, 'meson-logs'))
        with open(os.path.join(d, 'meson-logs', logname), 'w') as fh:
            fh.write(log)
    return d


BUILDS = [
    ('a failed build is a failure', 'failed', None, (0, 1, 0)),
    ('the log of meson test --setup valgrind counts', 'ok', '{"stdout": "ok 1\\n", "result": "OK", "name": "t"}\n',
     (2, 0, 0), 'testlog-valgrind.json'),
    ('a clean build without tests is a pass', 'ok', None, (1, 0, 0)),
    ('a build and its tests', 'ok', '{"stdout": "ok 1\\nnot ok 2\\n", "result": "FAIL", "name": "t"}\n', (2, 1, 0)),
    ('a dir neither built nor tested is a failure', None, None, (0, 1, 0)),
]
for i, (name, result, log, want, *logname) in enumerate(BUILDS, len(CASES) + 1):
    d = build_dir(result, log, *logname)
    with contextlib.redirect_stdout(sys.stderr):    # its FAILED: lines are not TAP
        got = summary.count(d)
    shutil.rmtree(d)
    if got == want:
        print(f'ok {i} - {name}')
    else:
        failed += 1
        print(f'not ok {i} - {name}')
        print(f'# expected passed, failed, skipped = {want}, got {got}')
sys.exit(1 if failed else 0)
