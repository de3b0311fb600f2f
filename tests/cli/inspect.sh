#!/bin/sh
# nninit inspect: flags the initializer a tensor was made with, reads every
# format, and fails cleanly on bad input.
set -u
N=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A 256x128 tensor has 32768 elements: the std's relative sampling error is
# about 1/sqrt(2n) = 0.4%, far inside the 10% match window, while the
# nearest wrong candidates differ by >= 15% (he vs glorot here: 0.088 vs 0.072).
for s in he_normal glorot_uniform lecun_uniform xavier_normal_; do
    "$N" gen "$s" --shape 256,128 --seed 3 -o "$T/x.npy" || fail "gen $s"
    got=$("$N" inspect "$T/x.npy" --json | sed -n 's/.*"closest":"\([^"]*\)".*/\1/p')
    [ "$got" = "$s" ] || fail "inspect flags '$got' for a $s tensor"
done
# Orthogonal matrices are recognised by structure (W^T W = gain^2 I), also
# where their std equals another initializer's (square: lecun's 1/sqrt(n)).
"$N" gen "orthogonal(gain=2.0)" --shape 128,128 -o "$T/q.npy" || fail "gen orthogonal"
"$N" inspect "$T/q.npy" --brief | grep -q '~ orthogonal(gain=2)$' || fail "orthogonal not recognised"
"$N" gen lecun_normal --shape 128,128 -o "$T/q.npy" || fail "gen lecun_normal"
"$N" inspect "$T/q.npy" --json | grep -q '"closest":"orthogonal' && fail "a random matrix taken for orthogonal"
# Torch layout of a default nn.Linear weight: kaiming_uniform_(a=sqrt(5)).
"$N" gen "kaiming_uniform_(a=2.23606797749979)" --shape 300,200 --layout torch -o "$T/w.npy" || fail gen
"$N" inspect "$T/w.npy" --layout torch --brief | grep -q '~ kaiming_uniform_(a=2.23606797749979)' ||
    fail "torch default not recognised"
# A torch bias is matched through its sibling weight's fan_in (200 values:
# the std's relative standard error is sqrt(0.8/800) = 3%, inside 10%).
"$N" model --torch 'Linear(300, 200)' --rng torch --seed 1 -o "$T/l.safetensors" || fail "model"
"$N" inspect "$T/l.safetensors" --brief | grep -q '^bias .*~ torch default bias$' || fail "torch bias not recognised"
# npz made by NumPy (committed fixture), every tensor listed.
"$N" inspect tests/fixtures/io/numpy_savez_compressed.npz --brief > "$T/out" || fail "npz"
grep -q '^a  F32 \[3, 4\]' "$T/out" && grep -q '^b  F64 \[7\]' "$T/out" || fail "npz listing: $(cat "$T/out")"
# Usage and runtime errors: exit 2 and 1, one line each.
"$N" inspect 2>/dev/null; [ $? -eq 2 ] || fail "no file: exit status"
"$N" inspect "$T/none.safetensors" 2>"$T/err"; [ $? -eq 1 ] || fail "missing file: exit status (runtime failure, as the README says)"
grep -q "no such file" "$T/err" || fail "missing file message"
printf 'garbage!' > "$T/bad.safetensors"
"$N" inspect "$T/bad.safetensors" 2>"$T/err"; [ $? -eq 1 ] || fail "corrupt file: exit status"
[ "$(wc -l < "$T/err")" -eq 1 ] || fail "corrupt file: one line expected"
"$N" inspect "$T/x.npy" --layout sideways 2>/dev/null; [ $? -eq 2 ] || fail "bad layout: exit status"

# The layout (fans) follows the names when no metadata says: a PyTorch state_dict saved with numpy.savez
# (no nninit metadata) gets torch fans, a Keras one keras fans, whatever the format's default.
"$N" inspect tests/fixtures/torch_models/mlp.npz --brief | head -1 |
    grep -q "layout torch (PyTorch names such as '0.weight')" || fail "torch names: $("$N" inspect tests/fixtures/torch_models/mlp.npz --brief | head -1)"
"$N" inspect tests/fixtures/torch_models/mlp.npz --json --tensor 0.weight | grep -q '"fan_in":20,"fan_out":16' ||
    fail "torch fans of 0.weight [16, 20]: $("$N" inspect tests/fixtures/torch_models/mlp.npz --json --tensor 0.weight)"
"$N" model --keras tests/fixtures/keras/cnn_keras3.json -o "$T/k.npz" || fail "keras npz"
"$N" inspect "$T/k.npz" --brief | head -1 | grep -q "layout keras" || fail "keras npz layout"
mkdir "$T/kd" && "$N" model --torch 'Sequential(Conv2d(3, 8, 3))' --format npy-dir -o "$T/kd" || fail "torch npy-dir"
"$N" inspect "$T/kd/0.weight.npy" --brief | head -1 | grep -q "layout torch (PyTorch names such as '0.weight')" ||
    fail "a single torch .npy: $("$N" inspect "$T/kd/0.weight.npy" --brief | head -1)"
exit 0
