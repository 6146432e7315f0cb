#!/bin/bash
# SPDX-License-Identifier: MIT
# podman-pilot's %progress spinner as a person sees it, in a real terminal
# (tmux): a frame turns while the launch is prepared, the line ends as
# "Launching flake... done" (or "failed") on its own, the app's output and
# errors are intact below it, the cursor ends on a fresh line, and nothing
# of it reaches a pipe or a file. A local image (podman import), no network.
. "$FLAKE_SOURCE_ROOT/tests/lib.sh"
. "$FLAKE_SOURCE_ROOT/tests/integration/podman/setup.sh"
TDIR=$T
. "$FLAKE_SOURCE_ROOT/tests/integration/terminal/lib-term.sh"
trap 'term_cleanup; podman_teardown' EXIT

build_image localhost/term-test
# A resume flake: the launch creates and starts a container, so there is
# something to wait for (a plain one-shot ends the spinner at once).
register box localhost/term-test /bin/sh "  runtime:" "    runas: root" "    resume: true"
register nobox localhost/not-there /bin/sh "  runtime:" "    runas: root" "    resume: true"
BOX=$(app box)

term_run 80 24 60 "$BOX %progress -c 'echo hello from the app; echo to-stderr >&2; exit 3'"
assert_eq "exit status of the app" 3 "$TERM_RC"
check "a spinner frame was seen while the launch ran" grep -qE '^[|/\\-] Launching flake\.\.\.$' "$TERM_FRAMES"
assert_eq "the screen: the final line alone, then the app's output intact" \
        "$(printf '%s\n' 'Launching flake... done' 'hello from the app' 'to-stderr')" "$TERM_OUTPUT"
assert_clean_end "success"

# Resumed: the container runs already, the spinner still ends cleanly.
term_run 80 24 60 "$BOX %progress -c 'echo again'"
assert_eq "resumed: the final line, then the output" "$(printf '%s\n' 'Launching flake... done' 'again')" "$TERM_OUTPUT"
assert_clean_end "resumed"

# A failing launch: the failure line, and the errors each on a line of
# their own (not glued to a spinner frame).
term_run 80 24 60 "$(app nobox) %progress -c true"
assert_eq "failure: the pilot's status" 125 "$TERM_RC"
assert_contains "failure: the final line says so" "$TERM_OUTPUT" "Launching flake... failed"
assert_eq "failure: no spinner frame is left on the screen" "" "$(grep -E '^[|/\\-] Launching' <<<"$TERM_OUTPUT")"
assert_eq "failure: every error line starts on its own" "" \
        "$(grep -E '.Launching flake|Launching flake\.\.\..+' <<<"$TERM_OUTPUT" | grep -vx 'Launching flake... failed')"
assert_clean_end "failure"

# Through a pipe and into a file: the app's output only.
term_run 80 24 60 "$BOX %progress -c 'echo piped; echo err >&2' 2>&1 | cat > $T/piped.out"
assert_eq "pipe: the app's output only" "$(printf 'piped\nerr')" "$(cat "$T/piped.out")"
assert_plain "pipe" "$T/piped.out"
assert_eq "pipe: the terminal shows nothing" "" "$TERM_OUTPUT"
# Both streams to files (with stdout a terminal, the app's stderr shares
# its tty): nothing of the spinner in either.
term_run 80 24 60 "$BOX %progress -c 'echo filed; echo err >&2' >$T/filed.out 2>$T/filed.err"
assert_eq "files: the app's stdout" "filed" "$(cat "$T/filed.out")"
assert_eq "files: the app's stderr, nothing else" "err" "$(cat "$T/filed.err")"
assert_plain "files: stderr" "$T/filed.err"
assert_eq "files: the terminal shows nothing" "" "$TERM_OUTPUT"

# A terminal narrower than the spinner line: frames are cut to fit, so no
# redraw leaves a line behind.
term_run 16 24 60 "$BOX @narrow %progress -c 'echo narrow'"
check "16 columns: a cut frame was seen" grep -qE '^[|/\\-] Launching fla$' "$TERM_FRAMES"
assert_eq "16 columns: the final line (wrapped once), then the output" \
        "$(printf '%s\n' 'Launching flake.' '.. done' 'narrow')" "$TERM_OUTPUT"
assert_clean_end "16 columns"
finish
