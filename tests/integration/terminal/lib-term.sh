# SPDX-License-Identifier: MIT
# A real terminal for the tests, as a person sees it: tmux (its own server
# on a private socket, no configuration) runs a shell in a pane of a fixed
# size; commands are typed with send-keys and the screen is read with
# capture-pane. Sourced after lib.sh; needs $TDIR (a private directory that
# the caller removes).
#
#   term_run COLS ROWS TIMEOUT CMD
#       runs CMD in a fresh COLSxROWS terminal and sets
#       TERM_FRAMES   every distinct screen seen while CMD ran (file)
#       TERM_SCREEN   the screen after it ended (text)
#       TERM_OUTPUT   what CMD left on it (the lines between the typed
#                     command line and the exit status line)
#       TERM_RC       its exit status
#       TERM_CURSOR   the cursor's "x,y" then (the shell's prompt is "$ ")
require tmux

term() { tmux -S "$TDIR/tmux.sock" -f /dev/null "$@"; }

term_cleanup() { term kill-server 2>/dev/null; }

term_run() {
        local cols=$1 rows=$2 timeout=$3 cmd=$4 screen prev= i
        term kill-session -t t 2>/dev/null
        # CMD runs from a script in TDIR, the shell's working directory: the
        # typed line stays short enough for the narrowest terminal.
        TERM_N=$((${TERM_N:-0} + 1))
        TERM_FRAMES=$TDIR/frames.$TERM_N
        : > "$TERM_FRAMES"
        printf '%s\necho "__DONE__=$?"\n' "$cmd" > "$TDIR/c$TERM_N"
        # A plain shell: no rc files, a prompt of "$ ", no status line.
        term new-session -d -s t -x "$cols" -y "$rows" -c "$TDIR" "env PS1='$ ' bash --norc --noprofile" ||
                { echo "Bail out! tmux cannot start a session"; exit 1; }
        term set-option -t t status off
        # Typing before the shell's prompt is there would echo the line twice.
        for ((i = 0; i < 100; i++)); do
                [ "$(term capture-pane -p -t t | head -n1)" = '$' ] && break
                sleep 0.05
        done
        # The script ends with the exit status line "__DONE__=N".
        term send-keys -t t -l ". ./c$TERM_N"
        term send-keys -t t Enter
        for ((i = 0; i < timeout * 20; i++)); do
                screen=$(term capture-pane -p -t t)
                if [ "$screen" != "$prev" ]; then
                        printf '%s\n----- frame -----\n' "$screen" >> "$TERM_FRAMES"
                        prev=$screen
                fi
                grep -qE '^__DONE__=[0-9]+$' <<<"$screen" && break
                sleep 0.05
        done
        sleep 0.2
        TERM_SCREEN=$(term capture-pane -p -t t)
        TERM_RC=$(sed -n 's/^__DONE__=\([0-9]*\)$/\1/p' <<<"$TERM_SCREEN")
        TERM_CURSOR=$(term display-message -p -t t '#{cursor_x},#{cursor_y}')
        TERM_OUTPUT=$(sed -n '2,$p' <<<"$TERM_SCREEN" | sed '/^__DONE__=[0-9]/,$d')
        term kill-session -t t 2>/dev/null
        [ -n "$TERM_RC" ] || diag "timeout after $timeout s: $cmd" "$TERM_SCREEN"
}

# The screen ends cleanly: the marker line is whole (the command left the
# cursor at the start of a fresh line), the prompt follows it and the
# cursor sits after the prompt; nothing of an escape sequence shows.
assert_clean_end() {
        local what=$1
        local tail
        tail=$(sed -n '/^__DONE__=[0-9]/,$p' <<<"$TERM_SCREEN" | sed '/^$/d')
        assert_eq "$what: the exit status line stands alone, then the prompt" \
                "$(printf '__DONE__=%s\n$' "$TERM_RC")" "$tail"
        local y=$(grep -nE '^__DONE__=[0-9]+$' <<<"$TERM_SCREEN" | cut -d: -f1)
        assert_eq "$what: the cursor is after the prompt on the next line" "2,$y" "$TERM_CURSOR"
        assert_eq "$what: no stray escape sequence on the screen" "" \
                "$(grep -nE $'\033|\\^\\[|\\[K' <<<"$TERM_SCREEN")"
}

# No terminal control in a stream that is not a terminal: no \r, no escape.
assert_plain() {
        local what=$1 file=$2
        assert_eq "$what: no carriage return" 0 "$(tr -cd '\r' < "$file" | wc -c)"
        assert_eq "$what: no escape sequence" 0 "$(tr -cd '\033' < "$file" | wc -c)"
}
