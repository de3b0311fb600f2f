#!/bin/sh
# --save-torch-state / --torch-state: splitting a --repeat sequence in two
# commands through the saved generator state gives the same bytes, cached
# normal included; a bad state file is refused without output.
set -u
N=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
for v in torch:default torch:avx2; do
    # normal_ on 5 elements (scalar path) leaves a cached normal for the next call
    "$N" gen 'normal_' --shape 5,1 --layout torch --rng $v --seed 3 -o "$T/a.npy" \
        --repeat 'kaiming_uniform_(a=math.sqrt(5))' --shape 30,20 --layout torch -o "$T/b.npy" \
        --repeat 'normal_' --shape 3,1 --layout torch -o "$T/c.npy" || fail "$v: one command"
    "$N" gen 'normal_' --shape 5,1 --layout torch --rng $v --seed 3 -o "$T/a2.npy" \
        --save-torch-state "$T/state.bin" || fail "$v: save"
    [ "$(wc -c <"$T/state.bin")" -eq 5056 ] || fail "$v: state size"
    "$N" gen 'kaiming_uniform_(a=math.sqrt(5))' --shape 30,20 --layout torch --rng $v --torch-state "$T/state.bin" \
        -o "$T/b2.npy" --repeat 'normal_' --shape 3,1 --layout torch -o "$T/c2.npy" || fail "$v: load"
    cmp -s "$T/a.npy" "$T/a2.npy" && cmp -s "$T/b.npy" "$T/b2.npy" && cmp -s "$T/c.npy" "$T/c2.npy" ||
        fail "$v: split sequence differs"
done
head -c 100 "$T/state.bin" >"$T/short.bin"
"$N" gen normal_ --shape 4,4 --layout torch --rng torch --torch-state "$T/short.bin" -o "$T/x.npy" 2>"$T/err"
[ $? -ne 0 ] || fail "short state accepted"
[ ! -e "$T/x.npy" ] || fail "output written with a bad state"
"$N" gen normal_ --shape 4 --torch-state "$T/state.bin" 2>/dev/null; [ $? -eq 2 ] || fail "philox with a torch state"
exit 0
