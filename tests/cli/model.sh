#!/bin/sh
# nninit model: every input kind and output format, sharding, atomic
# replacement, and the exit status of bad input.
set -u
N=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
R='Sequential(Linear(20, 16), ReLU(), Linear(16, 4))'

# The torch recipe equals PyTorch's state_dict (fixture) through the CLI too:
# compare with the stored npz tensor by tensor via inspect's JSON (exact
# statistics of identical bits are identical).
"$N" model --torch "$R" --rng torch --seed 0 -o "$T/m.safetensors" || fail "torch recipe"
"$N" inspect "$T/m.safetensors" --json | sed 's/"file":"[^"]*",//' | sort > "$T/a" || fail inspect
"$N" inspect tests/fixtures/torch_models/mlp.npz --json --layout torch | sed 's/"file":"[^"]*",//' | sort > "$T/b"
cmp -s "$T/a" "$T/b" || fail "torch recipe differs from the PyTorch fixture"

# A tensor the generator cannot draw (PyTorch 1.13 raises for kaiming_normal_ on a 1-D
# tensor, has no delta_orthogonal, checks dirac_'s groups; 2.12's trunc_normal_ is not
# replayed) is refused in one line naming the tensor and the initializer, exit 2, before
# any output exists: -o is a FIFO nobody reads, so a write begun would block (timeout 124).
mkdir "$T/pre" && mkfifo "$T/pre/fifo.npz" || fail mkfifo
printf '%s\n' '{"layout": "torch", "tensors": [{"name": "w", "shape": [4, 3], "init": "normal_"},' \
    '{"name": "b", "shape": [3], "init": "kaiming_normal_"}]}' >"$T/pre.json"
pre() { # expected-message rng args...
    want=$1 rng=$2
    shift 2
    for o in "$T/pre/fifo.npz" "$T/pre/m.safetensors" "$T/pre/dir"; do
        timeout 20 "$N" model "$@" --rng "$rng" -o "$o" 2>"$T/err"; rc=$?
        [ $rc -eq 2 ] || fail "$* --rng $rng -o $o: exit $rc, expected 2 ($(cat "$T/err"))"
        [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF "nninit: $want" "$T/err" || fail "$* --rng $rng: $(cat "$T/err")"
        [ "$(ls -A "$T/pre")" = fifo.npz ] || fail "$* --rng $rng -o $o left $(ls -A "$T/pre")"
    done
}
pre "tensor 'b': kaiming_normal_: fan in and fan out can not be computed for a tensor with 1 dimension; the torch layout needs at least 2" torch --spec "$T/pre.json"
pre "tensor 'b': kaiming_normal_: fan in and fan out" philox --spec "$T/pre.json"
C='Sequential(Linear(4, 2), Conv2d(2, 2, 3))'
pre "tensor '1.weight': delta_orthogonal: has no PyTorch counterpart; use --rng philox" torch --torch "$C" --override 1.weight=delta_orthogonal
pre "tensor '1.weight': dirac_: dim 0 (2) is not divisible by groups (3)" torch --torch "$C" --override '1.weight=dirac_(groups=3)'
pre "tensor '0.bias': uniform_: to - from = 6e+38 overflows float32" torch --torch "$C" --override '0.bias=uniform_(a=-3e38, b=3e38)'
pre "tensor '0.bias': normal_: its parameters give values up to about 1e+39" philox --torch "$C" --override '0.bias=normal_(std=1e38)'
pre "tensor '0.bias': trunc_normal_: PyTorch >= 2.12 draws trunc_normal_ by rejection" torch2 --torch "$C" --override 0.bias=trunc_normal_
# the same model and override draw under the generator that can (the check refuses no more)
"$N" model --torch "$C" --override 1.weight=delta_orthogonal -o "$T/pre/ok.npz" || fail "delta_orthogonal under philox"
"$N" model --torch "$C" --override 0.bias=trunc_normal_ --rng torch -o "$T/pre/ok.npz" || fail "trunc_normal_ under torch"
rm -f "$T/pre/ok.npz"

# Every format and dtype round-trips through inspect.
for f in safetensors npz npz-deflated npy-dir; do
    for d in float32 bfloat16; do
        "$N" model --keras tests/fixtures/keras/cnn_keras3.json --format $f --dtype $d -o "$T/k.$f.$d" ||
            fail "keras $f $d"
        n=$("$N" inspect "$T/k.$f.$d" --brief | grep -c '^[a-z]')
        [ "$n" -eq 14 ] || fail "keras $f $d: $n tensors listed, expected 14"
    done
done

# A .keras archive reads its config.json (deflated member).
"$N" model --keras tests/fixtures/keras/cnn.keras --list > "$T/l1" || fail ".keras archive"
"$N" model --keras tests/fixtures/keras/cnn_keras3.json --list > "$T/l2" || fail "keras json"
cmp -s "$T/l1" "$T/l2" || fail ".keras archive and its config.json differ"

# Sharding: 3 files + index for a 2 kB limit; the index opens.
mkdir "$T/sh"
"$N" model --torch "$R" --max-shard-size 1000 -o "$T/sh/model.safetensors" || fail shard
[ -f "$T/sh/model.safetensors.index.json" ] || fail "no index"
ls "$T/sh" | grep -q 'model-00001-of-0000[0-9].safetensors' || fail "shard names: $(ls "$T/sh")"
"$N" inspect "$T/sh/model.safetensors.index.json" --brief > /dev/null || fail "index unreadable"

# A spec with an override and a per-tensor layout.
cat > "$T/spec.json" <<'JSON'
{"layout": "keras", "tensors": [
  {"name": "w", "shape": [64, 32], "init": "he_normal"},
  {"name": "v", "shape": [32, 64], "init": {"class_name": "GlorotUniform", "config": {"seed": null}}, "layout": "torch"},
  {"name": "b", "shape": [32], "init": "zeros"}],
 "overrides": {"b": "ones"}}
JSON
"$N" model --spec "$T/spec.json" --override w=lecun_normal -o "$T/s.npz" || fail spec
"$N" model --spec "$T/spec.json" --override w=lecun_normal --list | grep -q '^w	\[64, 32\]	keras	lecun_normal$' ||
    fail "override not listed"
"$N" inspect "$T/s.npz" --tensor b --brief | grep -q 'constant 1' || fail "spec override of b"

# Failures leave the old output in place and say why on one line.
cp "$T/m.safetensors" "$T/keep"
"$N" model --torch 'Sequential(Linear(3, 4), Bogus())' -o "$T/m.safetensors" 2>"$T/err"
[ $? -eq 2 ] || fail "bad recipe: exit status"
grep -q "unknown module 'Bogus'" "$T/err" || fail "bad recipe message: $(cat "$T/err")"
cmp -s "$T/keep" "$T/m.safetensors" || fail "output replaced on failure"
"$N" model --keras "$T/none.json" -o "$T/x" 2>"$T/err"; [ $? -eq 1 ] || fail "missing file: exit status (a runtime failure)"
grep -q "none.json: no such file" "$T/err" || fail "missing file: message names it: $(cat "$T/err")"
"$N" model --torch "$R" 2>/dev/null; [ $? -eq 2 ] || fail "no -o: exit status"
"$N" model --torch "$R" --keras x -o y 2>/dev/null; [ $? -eq 2 ] || fail "two sources: exit status"
"$N" model --torch "$R" --dtype int8 -o y 2>/dev/null; [ $? -eq 2 ] || fail "bad dtype: exit status"
"$N" model --torch "$R" -o "$T/no/such/dir/m.safetensors" 2>/dev/null; [ $? -eq 1 ] || fail "bad dir: exit status"
# integer products in arguments, as written in Python
"$N" model --torch 'Sequential(Flatten(), Linear(2 * 3*4, 5))' -o "$T/prod.safetensors" || fail "integer product"
"$N" inspect "$T/prod.safetensors" --brief | grep -q 'weight  F32 \[5, 24\]' || fail "product shape"
"$N" model --torch 'Linear(3 * x, 2)' -o "$T/x.safetensors" 2>/dev/null; [ $? -eq 2 ] || fail "bad product"
"$N" model --torch 'Linear(9223372036854775807 * 2, 2)' -o "$T/x.safetensors" 2>/dev/null; [ $? -eq 2 ] || fail "product overflow"
# a recipe file: several lines, # comments, a module of the user's own with named submodules
cat >"$T/net.py" <<'RECIPE'
Net(  # class Net(nn.Module) with these attributes, in this order
    features=Sequential(OrderedDict([
        ("conv", Conv2d(1, 8, 3)),   # features.conv.weight
        ("act", ReLU()),
    ])),
    heads=ModuleDict({"cls": Linear(8, 10)}),
)
RECIPE
"$N" model --torch "@$T/net.py" --list >"$T/l" || fail "recipe file"
[ "$(cut -f1 "$T/l" | tr '\n' ' ')" = "features.conv.weight features.conv.bias heads.cls.weight heads.cls.bias " ] ||
    fail "recipe file names: $(cut -f1 "$T/l" | tr '\n' ' ')"
"$N" model --torch "@$T/none.py" --list 2>/dev/null; [ $? -eq 1 ] || fail "missing recipe file: exit status (a runtime failure)"
"$N" model --torch 'Linaer(3, 4)' --list 2>"$T/err"; [ $? -eq 2 ] || fail "typo: exit status"
grep -qx "nninit: recipe: unknown module 'Linaer'; did you mean 'Linear'?" "$T/err" || fail "typo message: $(cat "$T/err")"
# parameter-free modules (here padding, GLU, LPPool) are no-ops: only the conv has tensors
"$N" model --torch 'Sequential(ReplicationPad2d(1), Conv2d(1, 2, 3), GLU(), LPPool2d(2, 2), UpsamplingNearest2d(scale_factor=2))' --list >"$T/l" || fail "parameter-free modules"
[ "$(cut -f1 "$T/l" | tr '\n' ' ')" = "1.weight 1.bias " ] || fail "parameter-free names: $(cut -f1 "$T/l" | tr '\n' ' ')"
# The format follows -o's ending; --format must agree with it; endings of formats nninit does not
# write are refused with what to use; nothing is written by a refused call.
K=tests/fixtures/keras/rnn_keras3.json
"$N" model --torch "$R" -o "$T/e.npz" || fail "-o .npz"
[ "$(head -c 2 "$T/e.npz")" = PK ] || fail ".npz ending: not an npz"
mkdir "$T/folder"
"$N" model --torch "$R" -o "$T/folder" && [ -f "$T/folder/0.weight.npy" ] || fail "-o FOLDER: npy-dir"
for bad in "--format npz -o $T/e2.safetensors" "--format safetensors -o $T/e2.weights.h5" "-o $T/e2.npy" \
           "-o $T/e2.h5" "-o $T/e2.keras" "-o $T/e2.pt"; do
    # shellcheck disable=SC2086
    "$N" model --keras "$K" $bad 2>"$T/err"; rc=$?
    [ $rc -eq 2 ] || fail "model $bad: exit status $rc, expected 2"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "model $bad: not one line: $(cat "$T/err")"
done
[ -z "$(ls "$T" | grep e2)" ] || fail "a refused call wrote $(ls "$T" | grep e2)"
"$N" model --keras "$K" --format npz -o "$T/e2.safetensors" 2>&1 | grep -qx "nninit: --format npz, but -o $T/e2.safetensors names safetensors; make them agree (or leave --format out)" ||
    fail "disagreement message"
"$N" model --torch "$R" --format npz-deflated -o "$T/e3.npz" || fail "npz-deflated with .npz"
"$N" gen he_normal --shape 3,4 -o "$T/g.safetensors" 2>/dev/null; [ $? -eq 2 ] || fail "gen -o .safetensors accepted"
[ ! -e "$T/g.safetensors" ] || fail "gen wrote .npy bytes into a .safetensors name"

# Keras .weights.h5 (needs libhdf5; tests/test_model.c compares the datasets with h5py's listing)
if "$N" model --keras "$K" -o "$T/m.weights.h5" 2>"$T/err"; then
    "$N" inspect "$T/m.weights.h5" --brief | grep -q '^layers/lstm/cell/vars/1 ' || fail ".weights.h5 paths: $("$N" inspect "$T/m.weights.h5" --brief)"
    sleep 1 # a second later: no timestamps in the file, the same bytes
    "$N" model --keras "$K" -o - --format weights.h5 | cmp -s - "$T/m.weights.h5" || fail ".weights.h5 to stdout differs"
    "$N" model --torch "$R" -o "$T/t.weights.h5" 2>"$T/err"; [ $? -eq 2 ] || fail "torch recipe to .weights.h5 accepted"
    grep -q "not a Keras model" "$T/err" || fail "torch .weights.h5 message: $(cat "$T/err")"
else
    grep -q "apt-get install libhdf5-dev" "$T/err" || fail "no libhdf5: message $(cat "$T/err")"
fi
# keras_hub PositionEmbedding without sequence_length: one line naming the layer, nothing written.
sed -E 's/"sequence_length": *[0-9]+, *//g; s/, *"sequence_length": *[0-9]+//g' tests/fixtures/keras/posemb_keras3.json > "$T/posemb_noseq.json"
grep -q sequence_length "$T/posemb_noseq.json" && fail "posemb fixture edit left sequence_length"
"$N" model --keras "$T/posemb_noseq.json" -o "$T/posemb.safetensors" 2> "$T/err" && fail "posemb without sequence_length accepted"
[ "$(wc -l < "$T/err")" -eq 1 ] || fail "posemb error: $(cat "$T/err")"
grep -q "PositionEmbedding needs sequence_length >= 1" "$T/err" || fail "posemb message: $(cat "$T/err")"
[ -e "$T/posemb.safetensors" ] && fail "posemb: output written on error"
exit 0
