#!/bin/sh
# The option layer (cli/opt.c) seen from outside, for every subcommand alike:
# --help/--version, 'nninit help CMD', did-you-mean for options, commands,
# modules and layers, one wording per kind of error, one --threads range, the
# exit status of a missing input file, and error lists never cut.
set -u
N=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
CMDS="gen list model inspect train theory probe bench lab"

for c in $CMDS; do
    "$N" $c --help >"$T/h" 2>"$T/e" || fail "$c --help: exit $?"
    grep -q "^usage: nninit $c" "$T/h" || fail "$c --help: no usage line"
    grep -q '^Exit status: 0 success; 1 runtime failure' "$T/h" || fail "$c --help: no exit-status section"
    [ -s "$T/e" ] && fail "$c --help wrote to stderr"
    "$N" $c --version >"$T/v" || fail "$c --version: exit $?"
    grep -q '^nninit [0-9]' "$T/v" || fail "$c --version: $(cat "$T/v")"
    "$N" help $c >"$T/h2" || fail "help $c: exit $?"
    cmp -s "$T/h" "$T/h2" || fail "'nninit help $c' differs from '$c --help'"
    # one wording for an unknown option and for a missing value
    "$N" $c --no-such-option 2>"$T/e"; rc=$?
    [ $rc -eq 2 ] || fail "$c unknown option: exit $rc"
    grep -qx "nninit: unknown option '--no-such-option'; see 'nninit $c --help'" "$T/e" ||
        fail "$c unknown option wording: $(cat "$T/e")"
    "$N" $c --threads 2>"$T/e"; rc=$?
    if [ $c = list ] || [ $c = inspect ] || [ $c = theory ]; then continue; fi  # no threads there
    [ $rc -eq 2 ] || fail "$c --threads without value: exit $rc"
    grep -qx "nninit: option '--threads' needs a value; see 'nninit $c --help'" "$T/e" ||
        fail "$c missing value wording: $(cat "$T/e")"
    # one --threads range: 257 is refused everywhere with the same words
    "$N" $c --threads 257 2>"$T/e"; rc=$?
    [ $rc -eq 2 ] || fail "$c --threads 257: exit $rc"
    grep -qx "nninit: --threads '257': expected an integer in \[0, 256\]" "$T/e" ||
        fail "$c --threads wording: $(cat "$T/e")"
done
"$N" help 2>/dev/null | grep -q '^usage: nninit <command>' || fail "nninit help"
"$N" help nosuch 2>/dev/null; [ $? -eq 2 ] || fail "help of an unknown command"

# --threads 0 (the default) and 256 are accepted where threads do not change values
"$N" gen he_normal --shape 4 --threads 0 >/dev/null || fail "--threads 0"
"$N" gen he_normal --shape 4 --threads 256 >/dev/null || fail "--threads 256"
"$N" gen he_normal --shape=4 --seed=7 >"$T/a" || fail "--name=VALUE"
"$N" gen he_normal --shape 4 --seed 7 >"$T/b"
cmp -s "$T/a" "$T/b" || fail "--name=VALUE differs from --name VALUE"

# did you mean: options, commands, modules, Keras layers
"$N" gen he_normal --shap 3 2>"$T/e"; [ $? -eq 2 ] || fail "typo option exit"
grep -q "did you mean '--shape'?" "$T/e" || fail "option suggestion: $(cat "$T/e")"
"$N" modle 2>"$T/e"; [ $? -eq 2 ] || fail "typo command exit"
grep -q "unknown command 'modle'; did you mean 'model'?" "$T/e" || fail "command suggestion: $(cat "$T/e")"
"$N" model --torch 'Sequential(Lineer(2, 3))' --list 2>"$T/e"; [ $? -eq 2 ] || fail "typo module exit"
grep -q "unknown module 'Lineer'; did you mean 'Linear'?" "$T/e" || fail "module suggestion: $(cat "$T/e")"
sed 's/"class_name": "Dense"/"class_name": "Dnese"/' tests/fixtures/keras/cnn_keras3.json >"$T/k.json"
"$N" model --keras "$T/k.json" --list 2>"$T/e"; [ $? -eq 2 ] || fail "typo layer exit"
grep -q "unknown class 'Dnese'; did you mean 'Dense'?" "$T/e" || fail "layer suggestion: $(cat "$T/e")"

# a list in an error message is never cut (it was at 256 bytes: "...TransformerEnco")
"$N" model --torch 'Sequential(Zzzzzzzzzzzzz())' --list 2>"$T/e"
grep -q 'and a module of your own as Name(attr=Module(...), ...)$' "$T/e" || fail "cut list: $(cat "$T/e")"
[ "$(wc -l <"$T/e")" -eq 1 ] || fail "list message is one line"

# a missing input file is a runtime failure (1) that names the file
for args in "inspect $T/none.npy" "model --keras $T/none.json --list" "model --spec $T/none.json --list" \
            "gen normal_ --shape 2 --rng torch --torch-state $T/none.bin" "probe --model $T/none.json" \
            "train --model $T/none.json" "train --data $T/none --limit 10"; do
    # shellcheck disable=SC2086
    "$N" $args >/dev/null 2>"$T/e"; rc=$?
    [ $rc -eq 1 ] || fail "missing file ($args): exit $rc"
    grep -q "$T/none" "$T/e" || fail "missing file ($args): message does not name it: $(cat "$T/e")"
done
exit 0
