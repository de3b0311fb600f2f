#!/bin/sh
# Writes the man pages nninit.1 and nninit-CMD.1 into DIR from the text of
# 'nninit --help' and 'nninit CMD --help' (one source for both), e.g.
#   sh tools/make_man.sh build/nninit build/man
set -eu
N=$1
OUT=$2
mkdir -p "$OUT"
VERSION=$("$N" --version | sed 's/^nninit \([^ ]*\).*/\1/')
# roff: a leading '.' or "'" would be a request, '\' an escape
quote() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
page() { # name, summary, help text on stdin
    {
        printf '.TH %s 1 "" "nninit %s" "User Commands"\n' "$(echo "$1" | tr a-z A-Z)" "$VERSION"
        printf '.SH NAME\n%s \\- %s\n' "$1" "$2"
        printf '.SH DESCRIPTION\n.nf\n'
        quote
        printf '.fi\n.SH SEE ALSO\n'
        [ "$1" = nninit ] && printf 'nninit-gen(1), nninit-model(1), docs/files.md\n' ||
            printf 'nninit(1)\n'
    } > "$OUT/$1.1"
}
"$N" --help | page nninit "neural-network weight initialization, the Keras and PyTorch way"
"$N" --help | sed -n 's/^  \([a-z][a-z]*\)  *\(.*\)$/\1 \2/p' | while read -r cmd summary; do
    "$N" "$cmd" --help | page "nninit-$cmd" "$summary"
done
