# SPDX-License-Identifier: MIT
# zsh -f zsh-complete.zsh FPATH_DIR LINE: what zsh's completion system offers
# for LINE (completing at its end) with the functions in FPATH_DIR, one
# candidate a line. A real interactive zsh in a pseudo-terminal (zpty) runs
# compinit and the completion widget; compadd is wrapped to print what the
# completion function adds and what matches the word typed so far.
zmodload zsh/zpty || exit 2
dir=$1 line=$2
init=$(mktemp /tmp/zsh-complete.XXXXXX)
trap 'rm -f $init ${init}.dump' EXIT
cat > $init <<EOS
fpath=($dir \$fpath)
autoload -Uz compinit
compinit -u -d ${init}.dump
bindkey '^I' complete-word
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
compprefuncs=( __cap_begin )
comppostfuncs=( __cap_end )
# The markers are split in the source: only what they print matches them.
__cap_begin() { print -r -- '<<BEG''IN>>' }
__cap_end() { print -r -- '<<E''ND>>'; exit }
compadd() {
        # Calls that only ask for the matches (-O/-A/-D) are not additions.
        if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "\$@"; return \$?; fi
        local -a __hits
        builtin compadd -A __hits "\$@"
        (( \$#__hits )) || return 1
        print -rl -- "<<H""IT>>"\$^__hits
        builtin compadd "\$@"
}
EOS
zpty z zsh -f -i
zpty -w z "PS1=; source $init"
zpty -w -n z "$line"$'\t'
out=
integer n=0
# Bounded: at most 10 s without output.
while (( n < 500 )); do
        chunk=
        if zpty -r -t z chunk; then
                out+=$chunk
                [[ $out == *'<<END>>'* ]] && break
        else
                (( n++ ))
                sleep 0.02
        fi
done
zpty -d z
[[ $out == *'<<END>>'* ]] || { print -u2 "zsh-complete: no completion ran for '$line'"; exit 1; }
print -r -- "$out" | tr -d '\r' | sed -n 's/^<<HIT>>//p' | sort -u
