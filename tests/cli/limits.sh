#!/bin/sh
# Caps on the counts of recipes and model files (docs/models.md): refused at
# once, exit 2, one line naming the value, the cap and why.
# LSTM(num_layers=1000000) ran for minutes before the caps.
set -u
N=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for r in 'LSTM(10, 20, num_layers=1000000)' 'GRU(10, 20, 1000000)' 'RNN(10, 20, num_layers=4097)'; do
    timeout 10 "$N" model --torch "$r" --list >"$T/o" 2>"$T/e"; rc=$?
    [ $rc -eq 2 ] || fail "$r: exit $rc"
    [ "$(wc -l <"$T/e")" -eq 1 ] || fail "$r: not one line: $(cat "$T/e")"
    grep -q "num_layers is [0-9]*, above the cap of 4096 (caps stop a mistyped or hostile model" "$T/e" ||
        fail "$r: $(cat "$T/e")"
    [ -s "$T/o" ] && fail "$r: printed tensors"
done
"$N" model --torch 'RNN(10, 20, num_layers=4096, bias=False)' --list | wc -l | grep -qx 8192 ||
    fail "num_layers at the cap"
# sizes say what was given (2^40 read as -1: "needs units >= 1")
sed 's/"units": [0-9]*/"units": 1099511627776/' tests/fixtures/keras/cnn_keras3.json >"$T/u.json"
"$N" model --keras "$T/u.json" --list 2>"$T/e"; [ $? -eq 2 ] || fail "units 2^40: exit"
grep -q "units is 1099511627776; expected an integer from 1 to 2147483648 (sizes are capped" "$T/e" ||
    fail "units 2^40: $(cat "$T/e")"
echo '{"tensors": [{"name": "w", "shape": [4294967296], "init": "zeros"}]}' | "$N" model --spec - --list 2>"$T/e"
[ $? -eq 2 ] || fail "spec dimension 2^32: exit"
grep -q "dimension 0 is 4294967296; expected an integer from 1 to 2147483648" "$T/e" || fail "spec dim: $(cat "$T/e")"
exit 0
