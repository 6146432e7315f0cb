# SPDX-License-Identifier: MIT
"""The checks of a static TAP test (tests/check-*.py): collected, then
printed as one plan; the exit status says whether all passed."""


class Tap:
    def __init__(self):
        self.results = []

    def check(self, ok, name, why=''):
        self.results.append((ok, name, why))

    def report(self):
        print('1..%d' % len(self.results))
        for n, (ok, name, why) in enumerate(self.results, 1):
            print('%s %d - %s%s' % ('ok' if ok else 'not ok', n, name, '' if ok else ': ' + why))
        return 0 if all(ok for ok, _, _ in self.results) else 1
