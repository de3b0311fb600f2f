#!/bin/sh
# CLI contract of `nninit advise`: exit status 0 (clean) / 3 (findings) / 2 /
# 1, the tutorial's pitfalls flagged with the tutorial's correction and the
# corrections clean, --fix round trips (Keras JSON, recipe), --json, --probe
# next to the prediction, one-line errors.
set -u
N=${NNINIT:-build/nninit}
F=tests/fixtures/advise
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$N" advise --help | grep -q -- '--fix OUT' || fail "advise --help"
"$N" --help | grep -q '^  advise ' || fail "advise in the command list"

# the tutorial's three pitfalls, with the tutorial's own corrections
check() { # model kind fix count
    "$N" advise "$F/$1.json" >"$T/out"; rc=$?
    [ $rc -eq 3 ] || fail "$1: exit $rc, expected 3 (findings)"
    [ "$(grep -c "^  $2 dense.*/kernel: " "$T/out")" -eq "$4" ] || fail "$1: $4 x $2: $(cat "$T/out")"
    [ "$(grep -c "^    fix: initialize dense.*/kernel with $3\$" "$T/out")" -eq "$4" ] || fail "$1: fix $3"
    "$N" advise "$F/$1.json" --fix "$T/$1.fixed.json" >/dev/null; [ $? -eq 3 ] || fail "$1 --fix exit"
    "$N" advise "$T/$1.fixed.json" >"$T/out" || fail "$1: the fixed model still has findings: $(cat "$T/out")"
    grep -q '^No findings\.$' "$T/out" || fail "$1 fixed: no findings line"
}
check pitfall1_zeros constant-kernel he_normal 4
check pitfall2_random_normal unscaled-init glorot_uniform 8
check pitfall3_glorot_relu init-activation-mismatch he_normal 8
for f in pitfall1_fixed pitfall2_fixed pitfall3_fixed tanh_critical; do
    "$N" advise "$F/$f.json" >"$T/out" || fail "$f: expected clean: $(cat "$T/out")"
done
# the fixed Keras JSON is the same model (same tensors and shapes) with other initializers
"$N" model --keras "$F/pitfall3_glorot_relu.json" --list | cut -f1,2 >"$T/a"
"$N" model --keras "$T/pitfall3_glorot_relu.fixed.json" --list | cut -f1,2 >"$T/b"
cmp -s "$T/a" "$T/b" || fail "fixed Keras model: other tensors"
grep -q '"kernel_initializer": "he_normal"' "$T/pitfall3_glorot_relu.fixed.json" || fail "he_normal written"

# the gain table: square ReLU/Glorot halves q per layer (the theory's chi_1 = 1/2)
"$N" advise "$F/relu_glorot_square.json" >"$T/out"
grep -q '^dense_3  .* 256>256  *1  *0  *0.125  *0.5  *0.5  *0.125  *0.125  *0.5  ordered$' "$T/out" ||
    fail "relu glorot row: $(grep '^dense_3 ' "$T/out")"

# a recipe: PyTorch's Linear default (sigma_w^2 = 1/3) in a deep ReLU MLP; --fix writes recipe + overrides
R='Sequential(Linear(784, 256), ReLU(), Linear(256, 256), ReLU(), Linear(256, 256), ReLU(), Linear(256, 10))'
"$N" advise "$R" --fix "$T/mlp.json" >"$T/out"; [ $? -eq 3 ] || fail "recipe exit"
grep -q "\"0.weight\": \"kaiming_normal_(nonlinearity='relu')\"" "$T/mlp.json" || fail "recipe fix: $(cat "$T/mlp.json")"
"$N" advise "$T/mlp.json" >/dev/null || fail "fixed recipe has findings"
"$N" model --spec "$T/mlp.json" -o "$T/mlp.safetensors" --rng torch || fail "nninit model reads the fixed recipe"
printf '%s\n' "$R" >"$T/recipe.txt"
"$N" advise "@$T/recipe.txt" >/dev/null; [ $? -eq 3 ] || fail "@recipe file"
"$N" advise "$T/recipe.txt" >/dev/null; [ $? -eq 3 ] || fail "recipe file"

# normalization after each layer: notes, exit 0
"$N" advise 'Sequential(Linear(64, 64), BatchNorm1d(64), ReLU(), Linear(64, 64), BatchNorm1d(64), ReLU(), Linear(64, 64), BatchNorm1d(64), ReLU(), Linear(64, 10))' >"$T/out" ||
    fail "normalized stack: exit $?"
grep -q '^Notes (softened by normalization; not counted) (4):' "$T/out" || fail "notes: $(cat "$T/out")"

# --json: one object; --probe measured next to predicted
"$N" advise "$F/pitfall3_glorot_relu.json" --json --probe >"$T/out"; [ $? -eq 3 ] || fail "json exit"
if command -v python3 >/dev/null; then
    python3 - "$T/out" <<'PY' || fail "json: $(head -c 600 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["layers"]) == 9 and len(d["findings"]) == 8 and d["notes"] == []
assert d["findings"][1]["fix"] == "he_normal" and d["findings"][1]["kind"] == "init-activation-mismatch"
# hidden layers 2..8: measured forward gain near the predicted 1/2. Width 256 and 256 rows: the sample
# variance of one layer over 65536 entries has a relative error ~sqrt(2/65536) = 0.6%, but the layer's
# own weights (256 units) move its gain by ~sqrt(2/256) = 9% (1 sigma); 0.3 allows over 3 sigma.
for p in d["probe"][1:8]:
    assert abs(p["fwd_measured"] / p["fwd_predicted"] - 1) < 0.3, p
    assert abs(p["q_measured"] / p["q_predicted"] - 1) < 0.5, p
PY
fi
"$N" advise "$F/pitfall3_glorot_relu.json" --probe >"$T/out"
grep -q '^dense_1  *0\.[67][0-9]*  *0\.7538  *0\.[45][0-9]*  *0\.5 ' "$T/out" || fail "probe row: $(grep '^dense_1 ' "$T/out")"
"$N" advise "$F/tanh_critical.json" --probe --batch 64 >/dev/null || fail "probe tanh"

# MODEL '-' is standard input, as every input of nninit (it was "-: cannot open")
"$N" advise "$F/pitfall1_zeros.json" >"$T/file"; want=$?
"$N" advise - <"$F/pitfall1_zeros.json" >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq $want ] || fail "advise -: exit $rc, expected $want: $(cat "$T/err")"
grep -q '^nninit advise: - (keras, 5 layers' "$T/out" || fail "advise -: $(head -1 "$T/out")"
tail -n +2 "$T/out" | cmp -s - "$(tail -n +2 "$T/file" >"$T/file2"; echo "$T/file2")" || fail "advise - differs"

# errors: one line, status 2 (bad input) or 1 (runtime)
one() { # expected-status description command...
    want=$1; what=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    [ $rc -eq "$want" ] || fail "$what: exit $rc, expected $want: $(cat "$T/err")"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$what: one-line error: $(cat "$T/err")"
}
one 2 "no model" "$N" advise
one 2 "two models" "$N" advise "$F/pitfall1_fixed.json" "$F/pitfall2_fixed.json"
one 2 "unknown option" "$N" advise "$F/pitfall1_fixed.json" --fixx x
one 1 "missing file" "$N" advise "$T/nope.json"
one 2 "bad recipe" "$N" advise 'Sequential(Linearr(3, 4))'
printf '{"class_name": "Sequential", "config": {"layers": [' >"$T/bad.json"
one 2 "truncated JSON" "$N" advise "$T/bad.json"
printf '{"tensors": 3}' >"$T/bad.json"
one 2 "bad spec" "$N" advise "$T/bad.json"
one 2 "bad --batch" "$N" advise "$F/pitfall1_fixed.json" --probe --batch 0
one 2 "probe of a non-dense model" "$N" advise 'Sequential(Conv2d(1, 4, 3), ReLU())' --probe
one 1 "unwritable --fix" "$N" advise "$F/pitfall1_zeros.json" --fix "$T/no/dir/x.json"
[ ! -s "$T/out" ] || fail "unwritable --fix is reported before the analysis"
exit 0
