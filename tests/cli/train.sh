#!/bin/sh
# Contract tests of 'nninit train' on a tiny IDX data set made here
# (40 4x4 images: class 0 bright on the left, class 1 on the right).
set -u
NNINIT=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkidx() { # $1 split, $2 count
    n=$2
    {
        printf '\000\000\010\003\000\000\000'; printf "\\$(printf %03o "$n")"
        printf '\000\000\000\004\000\000\000\004'
        i=0
        while [ $i -lt "$n" ]; do
            for r in 0 1 2 3; do
                if [ $((i % 2)) -eq 0 ]; then printf '\310\310\000\000'; else printf '\000\000\310\310'; fi
            done
            i=$((i + 1))
        done
    } > "$T/$1-images-idx3-ubyte"
    {
        printf '\000\000\010\001\000\000\000'; printf "\\$(printf %03o "$n")"
        i=0
        while [ $i -lt "$n" ]; do printf "\\$(printf %03o $((i % 2)))"; i=$((i + 1)); done
    } > "$T/$1-labels-idx1-ubyte"
}
mkidx train 40
mkidx t10k 20
gzip "$T/train-images-idx3-ubyte" # the reader takes .gz and plain files alike

run() { "$NNINIT" train --data "$T" --layers 8 --epochs 3 --batch 8 --lr 0.5 --threads 1 "$@"; }

out=$(run) || fail "plain run exited $?"
[ "$(echo "$out" | head -n 1)" = "epoch  train_loss  train_acc  test_acc  seconds" ] || fail "header: $out"
[ "$(echo "$out" | wc -l)" -eq 4 ] || fail "expected a header and 3 epoch lines: $out"

json=$(run --json 2>/dev/null) || fail "--json exited $?"
case "$json" in "{"*'"final_test_acc": 1'*"}") ;; *) fail "--json output: $json" ;; esac

# same seed, same threads: the same numbers (seconds aside)
a=$(run --json --seed 5 2>/dev/null | sed 's/"[a-z_]*seconds": [^,]*,//g')
b=$(run --json --seed 5 2>/dev/null | sed 's/"[a-z_]*seconds": [^,]*,//g')
[ "$a" = "$b" ] || fail "same seed gave different runs"

out=$(run --compare 'zeros,VarianceScaling(scale=2.0, mode="fan_in"),he_normal' 2>/dev/null) || fail "--compare exited $?"
echo "$out" | grep -q 'VarianceScaling' || fail "compare table: $out"
echo "$out" | grep -q '^epoch 3 ' || fail "compare table rows: $out"
echo "$out" | grep -q '^s/epoch' || fail "compare summary: $out"

run --log "$T/h.csv" --val 0.25 >/dev/null || fail "--log exited $?"
[ "$(head -n 1 "$T/h.csv")" = "epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds,lr" ] || fail "csv header"
[ "$(wc -l < "$T/h.csv")" -eq 4 ] || fail "csv rows"
ls "$T" | grep -q tmp && fail "temporary file left behind"

run --optimizer adam --lr 0.01 --schedule cosine --bn --dropout 0.2 --act gelu --standardize --val 0.25 \
    --weight-decay 1e-4 --layout torch >/dev/null || fail "adam/cosine/bn/dropout run exited $?"
run --lr 0.05 --momentum 0.9 --nesterov --schedule step --step-epochs 1 --gamma 0.5 --act 'leaky_relu(0.1)' --loss mse \
    >/dev/null || fail "nesterov/step/mse run exited $?"

cat > "$T/model.json" <<'JSON'
[{"class_name": "Dense", "config": {"units": 6, "activation": "tanh", "kernel_initializer": "glorot_normal"}},
 {"class_name": "Dense", "config": {"units": 2, "activation": "softmax"}}]
JSON
run --model "$T/model.json" >/dev/null || fail "--model exited $?"

# errors: one line on stderr, exit 2 for usage, 1 for runtime
err=$("$NNINIT" train --data "$T/none" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "missing data: exit $rc"
echo "$err" | grep -q "apt-get install dataset-fashion-mnist" || fail "missing data message: $err"
err=$(run --init he_normall 2>&1); rc=$?
[ $rc -eq 2 ] || fail "bad init: exit $rc"
echo "$err" | grep -q "did you mean 'he_normal'" || fail "bad init message: $err"
# 16 inputs -> 4 -> 4 -> 4 -> 5 -> 2: (16*4+4) + 2*(4*4+4) + (4*5+5) + (5*2+2) = 145 parameters
"$NNINIT" train --data "$T" --layers 4x3,5 --epochs 1 --threads 1 --json 2>/dev/null | grep -q '"params": 145,' \
    || fail "--layers 4x3,5"
run --layers 4x0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--layers 4x0"
run --layers 4x300 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--layers 4x300"
run --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option"
run --lr abc >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --lr"
run --optimizer rmsprop >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --optimizer"
run --model "$T/none.json" >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing model file"
err=$(run --lr 1e30 --init 'RandomNormal(stddev=100.0)' 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "divergence: exit $rc"
echo "$err" | grep -q "diverged at epoch 1, step" || fail "divergence message: $err"
"$NNINIT" train --help | grep -q -- "--compare" || fail "--help"

# LSUV rescales a badly scaled init before training; zero kernels are refused
out=$("$NNINIT" train --data "$T" --layers 8x6 --act tanh --init 'RandomNormal(stddev=0.01)' --lsuv \
      --epochs 3 --batch 8 --lr 0.1 --threads 1 --json 2>/dev/null) || fail "--lsuv run exited $?"
case "$out" in *'"final_test_acc": 1'*) ;; *) fail "--lsuv did not learn the toy task: $out" ;; esac
"$NNINIT" train --data "$T" --layers 8 --init zeros --lsuv --epochs 1 --threads 1 >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "--lsuv on zeros should fail"
grep -q "variance is 0" "$T/err" || fail "message: $(cat "$T/err")"
"$NNINIT" train --help | grep -q -- '--lsuv' || fail "--help lists --lsuv"
exit 0
