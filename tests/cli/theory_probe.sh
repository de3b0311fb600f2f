#!/bin/sh
# CLI contract of `nninit theory` and `nninit probe`: exit codes, one-line
# errors, the numbers that are exact (ReLU/He, erf), JSON/CSV/SVG outputs.
set -u
N=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$N" theory --help | grep -q -- '--critical' || fail "theory --help"
"$N" probe --help | grep -q -- '--jacobian' || fail "probe --help"

# theory: exact cases
"$N" theory --act relu --init he_normal --width 512 >"$T/out" || fail "theory he"
grep -q '^phase  critical' "$T/out" || fail "he_normal relu is critical: $(cat "$T/out")"
"$N" theory --act relu --sw2 1.7 --sb2 0.1 --json >"$T/out" || fail "theory json"
grep -q '"q_star": 0.66666666666666' "$T/out" || fail "relu q* = sb2 / (1 - sw2/2): $(cat "$T/out")"
grep -q '"phase": "ordered"' "$T/out" || fail "relu ordered"
"$N" theory --act tanh --critical --sb2 0.05 >"$T/out" || fail "critical"
grep -q 'sigma_w^2 1.7609546' "$T/out" || fail "tanh critical line at 0.05: $(head -1 "$T/out")"
"$N" theory --act erf --sw2 2 --depth 3 --json | grep -q '"layers": \[{"layer": 1' || fail "layers json"
"$N" theory --act erf --phase-diagram --grid 4 --sb2-max 0.2 --sw2-range 0.5:3 --svg "$T/pd.svg" >"$T/out" || fail "phase diagram"
grep -q '</svg>' "$T/pd.svg" || fail "svg written"
[ "$(grep -c '^ *0\.[0-9]* *[0-9]' "$T/out")" -ge 3 ] || fail "critical line table: $(cat "$T/out")"

# theory: errors
"$N" theory --act tanhh --sw2 1 2>"$T/err"; [ $? -eq 2 ] || fail "bad act exit"
grep -qx "nninit: unknown activation 'tanhh'; did you mean 'tanh'?" "$T/err" || fail "bad act message: $(cat "$T/err")"
"$N" theory --act tanh 2>"$T/err"; [ $? -eq 2 ] || fail "no sw2"
"$N" theory --sw2 -1 2>"$T/err"; [ $? -eq 2 ] || fail "negative sw2"
"$N" theory --sw2 1 --init he_normal 2>"$T/err"; [ $? -eq 2 ] || fail "sw2 and init"
"$N" theory --sw2 1 --svg "$T/x.svg" 2>"$T/err"; [ $? -eq 2 ] || fail "svg without diagram"
"$N" theory --init glorot_unifrom 2>"$T/err"; [ $? -eq 2 ] || fail "bad init"
"$N" theory --phase-diagram --grid 3 --svg "$T/no/dir/x.svg" >"$T/out" 2>"$T/err"; [ $? -eq 1 ] || fail "unwritable svg exit"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "one-line error: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "unwritable svg is reported before computing"
"$N" probe --depth 2 --width 8 --svg "$T/no/dir/x.svg" >"$T/out" 2>"$T/err"; [ $? -eq 1 ] || fail "probe unwritable svg"

# probe: table, csv, json, svg, symmetry, Jacobian
"$N" probe --depth 3 --width 32 --batch 16 >"$T/out" || fail "probe"
grep -q '^summary: forward gain' "$T/out" || fail "summary line"
"$N" probe --depth 4 --width 16 --batch 8 --init zeros --act relu --train-steps 3 >"$T/out" || fail "zeros"
[ "$(grep -c '^ *[123] .* 1->1$' "$T/out")" -eq 3 ] || fail "zeros init: 1 distinct unit in hidden layers: $(cat "$T/out")"
"$N" probe --depth 3 --width 16 --batch 8 --init he_normal,orthogonal --csv >"$T/out" || fail "csv"
[ "$(wc -l <"$T/out")" -eq 7 ] || fail "csv: header + 2 x 3 rows"
"$N" probe --depth 2 --width 16 --batch 8 --theory --json --jacobian --jacobian-samples 2 >"$T/out" || fail "json"
grep -q '"jacobian": {"samples": 2' "$T/out" || fail "jacobian json"
grep -q '"theory_pre_var": [0-9]' "$T/out" || fail "theory in json"
"$N" probe --depth 1 --width 32 --batch 4 --act linear --init orthogonal --jacobian >"$T/out" || fail "orthogonal jacobian"
grep -q 'max 1[,.0].*min \(1$\|0\.9999\|1\.0000\)' "$T/out" || fail "orthogonal layer: singular values 1: $(grep jacobian "$T/out")"
"$N" probe --depth 3 --width 16 --batch 8 --init 'VarianceScaling(scale=2.0, mode="fan_in"),glorot_uniform' --svg "$T/p.svg" >/dev/null || fail "svg"
grep -q '</svg>' "$T/p.svg" || fail "probe svg"

# probe: a model description
cat >"$T/m.json" <<'JSON'
[{"class_name": "Dense", "config": {"units": 24, "activation": "relu", "kernel_initializer": "he_normal"}},
 {"class_name": "Dense", "config": {"units": 12, "activation": "tanh"}},
 {"class_name": "Dense", "config": {"units": 5}}]
JSON
"$N" probe --model "$T/m.json" --inputs 16 --batch 8 --theory >"$T/out" || fail "model"
grep -q '^ *3 *5 linear' "$T/out" || fail "model table: $(cat "$T/out")"
"$N" probe --model "$T/m.json" --depth 3 2>"$T/err"; [ $? -eq 2 ] || fail "model with --depth"
"$N" probe --model "$T/nosuch.json" 2>"$T/err"; [ $? -eq 1 ] || fail "missing model file"
echo '[{"class_name": "Dense", "config": {"unitz": 3}}]' >"$T/bad.json"
"$N" probe --model "$T/bad.json" 2>"$T/err"; [ $? -eq 2 ] || fail "bad model"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "bad model: one line: $(cat "$T/err")"

# probe: a Fashion-MNIST batch with cross-entropy (only where the data set is installed)
D=${NNINIT_DATA:-/usr/share/datasets/fashion-mnist}
if [ -f "$D/train-labels-idx1-ubyte.gz" ] || [ -f "$D/train-labels-idx1-ubyte" ]; then
    "$N" probe --input data --grad xent --depth 2 --width 32 --batch 16 --theory >"$T/out" || fail "probe data"
    grep -q 'cross-entropy [0-9]' "$T/out" || fail "data: cross-entropy in the summary: $(cat "$T/out")"
fi
"$N" probe --input data --data "$T/nodata" --depth 2 --width 8 2>"$T/err"; [ $? -ne 0 ] || fail "missing data dir"

# probe: errors
"$N" probe --depth 0 2>"$T/err"; [ $? -eq 2 ] || fail "depth 0"
"$N" probe --act softmax 2>"$T/err"; [ $? -eq 2 ] || fail "softmax"
"$N" probe --init glorot_unifrom --depth 2 --width 8 2>"$T/err"; [ $? -eq 2 ] || fail "bad init exit"
grep -q "init 'glorot_unifrom': unknown initializer" "$T/err" || fail "bad init message: $(cat "$T/err")"
"$N" probe --grad xent 2>"$T/err"; [ $? -eq 2 ] || fail "xent without data"
"$N" probe --bn --jacobian --depth 2 --width 8 2>"$T/err"; [ $? -eq 1 ] || fail "bn jacobian"
"$N" probe --json --csv 2>"$T/err"; [ $? -eq 2 ] || fail "json and csv"
"$N" probe --init a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r 2>"$T/err"; [ $? -eq 2 ] || fail "17+ specs"
"$N" probe --init 'he_normal,,orthogonal' 2>"$T/err"; [ $? -eq 2 ] || fail "empty spec"
"$N" probe --depth 300 --width 16 --batch 4 --act linear --init 'RandomNormal(stddev=3.0)' 2>"$T/err"; [ $? -eq 1 ] || fail "overflow exit"
grep -q "overflow at layer" "$T/err" || fail "overflow message"
exit 0
