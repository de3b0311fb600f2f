#!/bin/sh
# CLI contract of `nninit gen` and `nninit list`: exit codes, one-line errors,
# atomic output, --stats / --print-config formats, thread independence.
set -u
N=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$N" --help >/dev/null || fail "--help"
"$N" --version | grep -q '^nninit [0-9]' || fail "--version"
"$N" gen --help | grep -q -- '--shape' || fail "gen --help"
"$N" list | grep -q '^glorot_uniform ' || fail "list"
[ "$("$N" list --json | wc -l)" -eq 34 ] || fail "list --json has one line per initializer"

"$N" nosuchcmd 2>"$T/err"; [ $? -eq 2 ] || fail "unknown command exit"
"$N" gen glorot_unifrom --shape 3,3 >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "typo exit $rc"
[ ! -s "$T/out" ] || fail "typo printed to stdout"
grep -qx "nninit: unknown initializer 'glorot_unifrom'; did you mean 'glorot_uniform'?" "$T/err" || fail "typo message: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "error is one line"
"$N" gen he_normal 2>"$T/err"; [ $? -eq 2 ] || fail "missing --shape"
"$N" gen he_normal --shape 3,0 2>"$T/err"; [ $? -eq 2 ] || fail "zero dim"
grep -q "every dimension must be >= 1" "$T/err" || fail "zero dim message"
"$N" gen he_normal --shape 4294967296,4294967296 2>"$T/err"; [ $? -eq 2 ] || fail "overflow"
"$N" gen Identity --shape 3,3,3 2>"$T/err"; [ $? -eq 2 ] || fail "identity 3-D"
"$N" gen 'RandomNormal(stddev=-1)' --shape 3 2>"$T/err"; [ $? -eq 2 ] || fail "negative stddev"
"$N" gen he_normal --shape 3 --bogus 2>"$T/err"; [ $? -eq 2 ] || fail "unknown option"
"$N" gen he_normal --shape 3 --seed abc 2>"$T/err"; [ $? -eq 2 ] || fail "bad seed"
"$N" gen kaiming_uniform_ --shape 10 --layout torch 2>"$T/err"; [ $? -eq 2 ] || fail "torch 1-D"

# -o: .npy v1.0, atomic, an existing file survives a failed run
"$N" gen he_normal --shape 3,3,8,16 --seed 7 -o "$T/w.npy" || fail "write npy"
head -c 6 "$T/w.npy" | od -c | head -1 | grep -q 'N   U   M   P   Y' || fail "npy magic"
cp "$T/w.npy" "$T/keep.npy"
"$N" gen 'he_normal(' --shape 3,3,8,16 -o "$T/w.npy" 2>/dev/null; [ $? -eq 2 ] || fail "bad spec with -o"
cmp -s "$T/w.npy" "$T/keep.npy" || fail "existing file was modified by a failed run"
"$N" gen he_normal --shape 4 -o "$T/no/such/dir/w.npy" 2>"$T/err"; [ $? -eq 1 ] || fail "unwritable path exit"
[ "$(ls "$T" | grep -c tmp)" -eq 0 ] || fail "temporary file left behind"

# same seed -> same bytes, whatever the thread count
"$N" gen he_normal --shape 3,3,8,16 --seed 7 --threads 1 -o "$T/t1.npy" || fail "t1"
"$N" gen he_normal --shape 3,3,8,16 --seed 7 --threads 3 -o "$T/t3.npy" || fail "t3"
cmp -s "$T/t1.npy" "$T/keep.npy" && cmp -s "$T/t3.npy" "$T/keep.npy" || fail "thread count changed the bytes"
"$N" gen he_normal --shape 3,3,8,16 --seed 8 -o "$T/s8.npy" || fail "s8"
cmp -s "$T/s8.npy" "$T/keep.npy" && fail "another seed gave the same bytes"
"$N" gen random_normal --shape 5 --seed -1 >/dev/null || fail "negative seed"

# --stats: one JSON line with the documented keys; fans follow the layout
"$N" gen glorot_uniform --shape 784,256 --stats >"$T/s" || fail "stats"
grep -q '^{"fan_in": 784, "fan_out": 256, "mean": .*"std": .*"min": .*"max": .*"n": 200704}$' "$T/s" || fail "stats format: $(cat "$T/s")"
"$N" gen zeros --shape 256,784 --layout torch --stats | grep -q '"fan_in": 784, "fan_out": 256, "mean": 0,' || fail "torch fans"

# --print-config: Keras 3 serialization, and it parses back
"$N" gen glorot_uniform --print-config >"$T/c" || fail "print-config"
grep -qx '{"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null, "input_axes": null, "output_axes": null}, "registered_name": null}' "$T/c" || fail "print-config text: $(cat "$T/c")"
"$N" gen "@$T/c" --shape 4,4 --stats >/dev/null || fail "@file spec"
"$N" gen "$(cat "$T/c")" --shape 4,4 --stats >/dev/null || fail "inline JSON spec"

# half types: generated in float32, rounded once, stored as '<f2' / bfloat16 bits '<u2'
"$N" gen he_normal --shape 64,32 --dtype float16 -o "$T/h.npy" || fail "float16"
head -c 80 "$T/h.npy" | grep -q "'descr': '<f2'" || fail "float16 header"
"$N" gen he_normal --shape 64,32 --dtype bfloat16 -o "$T/b.npy" || fail "bfloat16"
head -c 80 "$T/b.npy" | grep -q "'descr': '<u2'" || fail "bfloat16 header"
[ "$(wc -c <"$T/h.npy")" -eq $((128 + 64 * 32 * 2)) ] || fail "float16 size"
"$N" gen ones --shape 3 --dtype bfloat16 | sort -u | grep -qx 1 || fail "bfloat16 printed values"
"$N" gen he_normal --shape 4 --dtype float16 --rng torch 2>/dev/null; [ $? -eq 2 ] || fail "torch + float16"

# --repeat: a later tensor that cannot be drawn (PyTorch has no delta_orthogonal) leaves no
# file written, the earlier tensors' included, and the error names the tensor; the files
# of a run that succeeds hold what the run draws tensor by tensor (the weight's bits equal
# a run of the weight alone: it is drawn first from the same seed)
"$N" gen he_normal --shape 4,4 -o "$T/r1.npy" --repeat delta_orthogonal --shape 3,3,4,4 -o "$T/r2.npy" --rng torch \
    2>"$T/err"; rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/r1.npy" ] && [ ! -e "$T/r2.npy" ] || fail "--repeat with a bad tensor: exit $rc, $(ls "$T")"
[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^nninit: tensor 2 (delta_orthogonal, -o $T/r2.npy): delta_orthogonal: has no PyTorch counterpart" "$T/err" ||
    fail "--repeat message: $(cat "$T/err")"
"$N" gen he_normal --shape 4,4 -o "$T/r1.npy" --repeat zeros --shape 3 -o "$T/r2.npy" --rng torch --seed 5 &&
    "$N" gen he_normal --shape 4,4 -o "$T/r0.npy" --rng torch --seed 5 && cmp -s "$T/r0.npy" "$T/r1.npy" &&
    [ "$("$N" gen zeros --shape 3 | sort -u)" = 0 ] && [ -s "$T/r2.npy" ] || fail "--repeat files"

# --stats prints the fans the initializer used: input_axes/output_axes decide them
# (keras random_initializers.py compute_fans), for the VarianceScaling family too
"$N" gen 'VarianceScaling(input_axes=[0], output_axes=[1,2])' --shape 16,4,8 --stats | grep -q '^{"fan_in": 16, "fan_out": 32,' || fail "stats fans from axes"
"$N" gen 'GlorotUniform(input_axes=[0], output_axes=[1,2])' --shape 16,4,8 --stats >"$T/s" || fail "glorot axes"
grep -q '^{"fan_in": 16, "fan_out": 32,' "$T/s" || fail "glorot axes fans: $(cat "$T/s")"
# ... and its values use them: limit sqrt(6 / (16 + 32)) = 0.35355, not sqrt(6 / 192) = 0.17678
awk -F'"max": ' '{split($2, a, ","); exit !(a[1] > 0.3 && a[1] <= 0.353554)}' "$T/s" || fail "glorot axes limit: $(cat "$T/s")"

# kaiming_*_(a=None): calculate_gain("leaky_relu", None) takes slope 0.01 (torch/nn/init.py)
"$N" gen 'kaiming_uniform_(a=None)' --shape 30,40 --layout torch --rng torch --seed 3 -o "$T/kn.npy" || fail "a=None"
"$N" gen 'kaiming_uniform_(a=0.01)' --shape 30,40 --layout torch --rng torch --seed 3 -o "$T/k1.npy" || fail "a=0.01"
"$N" gen 'kaiming_uniform_' --shape 30,40 --layout torch --rng torch --seed 3 -o "$T/k0.npy" || fail "a=0"
cmp -s "$T/kn.npy" "$T/k1.npy" || fail "a=None differs from a=0.01"
cmp -s "$T/kn.npy" "$T/k0.npy" && fail "a=None equals a=0"
"$N" gen 'kaiming_normal_(a=None)' --print-config | grep -q '"a": null' || fail "a=None serialization"
"$N" gen "$("$N" gen 'kaiming_normal_(a=None)' --print-config)" --print-config | grep -q '"a": null' || fail "a=None round trip"

# Constant(value=ARRAY): Keras broadcasts an array; nninit refuses it and says so
"$N" gen 'Constant(value=[1, 2])' --shape 2 2>"$T/err"; [ $? -eq 2 ] || fail "constant array exit"
grep -q "is a list; nninit takes a scalar here (Keras would broadcast" "$T/err" || fail "constant array message: $(cat "$T/err")"

# --stream-version: 1, 2 and 3 differ only in the float32 truncated normal
"$N" --version | grep -q '(stream format 3)' || fail "--version stream format"
"$N" gen he_normal --shape 64,32 --stream-version 1 >"$T/v1" || fail "--stream-version 1"
"$N" gen he_normal --shape 64,32 --stream-version 2 >"$T/v2" || fail "--stream-version 2"
"$N" gen he_normal --shape 64,32 --stream-version 3 >"$T/v3" || fail "--stream-version 3"
"$N" gen he_normal --shape 64,32 >"$T/vd" || fail "default stream version"
cmp -s "$T/v3" "$T/vd" || fail "default is not stream version 3"
! cmp -s "$T/v1" "$T/v2" || fail "float32 truncated normal is the same in versions 1 and 2"
! cmp -s "$T/v2" "$T/v3" || fail "float32 truncated normal is the same in versions 2 and 3"
"$N" gen he_normal --shape 64,32 --dtype float64 --stream-version 1 >"$T/d1" || fail "v1 float64"
"$N" gen he_normal --shape 64,32 --dtype float64 >"$T/d2" || fail "v2 float64"
cmp -s "$T/d1" "$T/d2" || fail "float64 truncated normal differs between versions"
"$N" gen random_normal --shape 64,32 --stream-version 1 >"$T/n1" || fail "v1 normal"
"$N" gen random_normal --shape 64,32 >"$T/n2" || fail "v2 normal"
cmp -s "$T/n1" "$T/n2" || fail "normal differs between versions"
for bad in "--stream-version 0" "--stream-version 4" "--stream-version 1 --rng torch"; do
    # shellcheck disable=SC2086
    "$N" gen he_normal --shape 4 $bad >"$T/o" 2>"$T/e"; rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$T/e")" -eq 1 ] && [ ! -s "$T/o" ] || fail "'$bad': rc $rc, $(cat "$T/e")"
done

# values printed without -o: one per line
[ "$("$N" gen ones --shape 2,3 | wc -l)" -eq 6 ] || fail "printed values"
[ "$("$N" gen ones --shape 2,3 | sort -u)" = "1" ] || fail "ones"
exit 0
