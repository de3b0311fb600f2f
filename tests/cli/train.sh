#!/bin/sh
# Contract tests of 'nninit train' on a tiny IDX data set made here
# (40 4x4 images: class 0 bright on the left, class 1 on the right).
set -u
NNINIT=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkidx() { # $1 split, $2 count, $3 the bright pixel's octal byte (default 310 = 200), $4 folder (default $T)
    n=$2 hi=${3:-310} dir=${4:-$T}
    {
        printf '\000\000\010\003\000\000\000'; printf "\\$(printf %03o "$n")"
        printf '\000\000\000\004\000\000\000\004'
        i=0
        while [ $i -lt "$n" ]; do
            for r in 0 1 2 3; do
                if [ $((i % 2)) -eq 0 ]; then printf "\\$hi\\$hi\\000\\000"; else printf "\\000\\000\\$hi\\$hi"; fi
            done
            i=$((i + 1))
        done
    } > "$dir/$1-images-idx3-ubyte"
    {
        printf '\000\000\010\001\000\000\000'; printf "\\$(printf %03o "$n")"
        i=0
        while [ $i -lt "$n" ]; do printf "\\$(printf %03o $((i % 2)))"; i=$((i + 1)); done
    } > "$dir/$1-labels-idx1-ubyte"
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
run --model "$T/none.json" >/dev/null 2>"$T/err"; [ $? -eq 1 ] || fail "missing model file: runtime failure (exit 1)"
grep -q "none.json" "$T/err" || fail "missing model file: message names it"
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
# --init-out and --monitor-log are checked before the data load, as --log is (--data names no
# folder here: an output refused later would be a data error instead)
"$NNINIT" train --data "$T/none" --torch 'Sequential(Linear(16, 2))' --init-out "$T/no/i.npz" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
    grep -q "^nninit: --init-out '$T/no/i.npz': folder '$T/no' is not writable" "$T/err" ||
    fail "--init-out in a missing folder: exit $rc: $(cat "$T/err")"
: >"$T/afile"
"$NNINIT" train --data "$T/none" --torch 'Sequential(Linear(16, 2))' --init-out "$T/afile" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "^nninit: --init-out '$T/afile': exists and is not a folder" "$T/err" ||
    fail "--init-out folder over a file: exit $rc: $(cat "$T/err")"
"$NNINIT" train --data "$T/none" --monitor 1 --monitor-log "$T/no/m.jsonl" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "^nninit: --monitor-log '$T/no/m.jsonl': folder '$T/no' is not writable" "$T/err" ||
    fail "--monitor-log in a missing folder: exit $rc: $(cat "$T/err")"
echo '[{"class_name": "Dense", "units": 2}]' >"$T/list.json"
"$NNINIT" train --data "$T/none" --model "$T/list.json" --init-out "$T/i.npz" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q "^nninit: --init-out: $T/list.json is nninit's layer list, not a Keras model" "$T/err" ||
    fail "--init-out with a layer list: exit $rc: $(cat "$T/err")"
# it says on stderr which layers it rescaled and which with parameters it left alone
"$NNINIT" train --data "$T" --layers 8,8 --bn --lsuv --epochs 1 --threads 1 >/dev/null 2>"$T/err" ||
    fail "--lsuv --bn: $(cat "$T/err")"
for l in "0 (dense_0)" "3 (dense_1)" "6 (dense_2)"; do
    grep -q "^nninit: lsuv: layer $l: variance [0-9.e+-]* -> 1\.00[0-9]*, 1 rescaling (kernel x [0-9.e+-]*)$" "$T/err" ||
        grep -q "^nninit: lsuv: layer $l: variance [0-9.e+-]* -> 0\.99[0-9]*, 1 rescaling" "$T/err" ||
        fail "--lsuv report lacks layer $l: $(cat "$T/err")"
done
grep -q "^nninit: lsuv: not rescaled (LSUV rescales dense and conv2d kernels only): layer 1 (batch_normalization_0), layer 4 (batch_normalization_1)$" "$T/err" ||
    fail "--lsuv report of the layers left alone: $(cat "$T/err")"
"$NNINIT" train --data "$T" --layers 8,8 --lsuv --epochs 1 --threads 1 --quiet >/dev/null 2>"$T/err" && [ ! -s "$T/err" ] ||
    fail "--lsuv --quiet wrote: $(cat "$T/err")"
# biases spread wider than the target variance: no kernel scale converges; an error, not a silent pass
"$NNINIT" train --data "$T" --layers 8 --bias-init 'RandomNormal(stddev=3)' --lsuv --epochs 1 --threads 1 \
    >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "--lsuv without convergence: exit $rc ($(cat "$T/err"))"
[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^nninit: lsuv: layer 0 (dense_0): output variance [0-9.e+]* after 10 rescalings, not within 0.01 of 1 .*; start from zero biases.*; the weights are unchanged$" "$T/err" ||
    fail "--lsuv without convergence: $(cat "$T/err")"
# Weight-norm data-dependent init: the same repair; a dead unit is named; one data-dependent init at a time
out=$("$NNINIT" train --data "$T" --layers 8x6 --act tanh --init 'RandomNormal(stddev=0.01)' --wn-init \
      --epochs 3 --batch 8 --lr 0.1 --threads 1 --json 2>/dev/null) || fail "--wn-init run exited $?"
case "$out" in *'"final_test_acc": 1'*) ;; *) fail "--wn-init did not learn the toy task: $out" ;; esac
"$NNINIT" train --data "$T" --layers 8 --init zeros --wn-init --epochs 1 --threads 1 >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "--wn-init on zeros should fail"
grep -q "wn_init: layer 0 (dense_0), unit 0: no variance on the batch" "$T/err" || fail "message: $(cat "$T/err")"
"$NNINIT" train --data "$T" --layers 8 --lsuv --wn-init --epochs 1 >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "--lsuv --wn-init should be a usage error"
"$NNINIT" train --data copy --seq-len 22 --limit 8 --wn-init --epochs 1 >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "--wn-init on a sequence set should be a usage error"
grep -q "^nninit: --data copy: --wn-init takes image pixels" "$T/err" || fail "message: $(cat "$T/err")"
"$NNINIT" train --help | grep -q -- '--wn-init' || fail "--help lists --wn-init"
# ---- convolutional and residual models ----
# A Keras Sequential CNN on the 4x4 images: step 0 equals `nninit model` bit for bit, then it learns.
cat > "$T/cnn.json" <<'JSON'
{"class_name": "Sequential", "config": {"name": "cnn", "layers": [
 {"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 4, 1], "name": "input_layer"}},
 {"class_name": "Conv2D", "config": {"name": "conv2d", "filters": 4, "kernel_size": [2, 2], "strides": [1, 1],
  "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu",
  "use_bias": true, "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": null}},
  "bias_initializer": {"class_name": "Zeros", "config": {}}}},
 {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "momentum": 0.9, "epsilon": 0.001,
  "center": true, "scale": true, "gamma_initializer": "ones", "beta_initializer": "zeros"}},
 {"class_name": "MaxPooling2D", "config": {"name": "pool", "pool_size": [2, 2], "strides": null, "padding": "valid"}},
 {"class_name": "Flatten", "config": {"name": "flatten"}},
 {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "softmax",
  "kernel_initializer": "glorot_uniform"}}]}}
JSON
out=$(run --model "$T/cnn.json" --init-out "$T/init" --json 2>/dev/null) || fail "keras cnn exited $?"
case "$out" in *'"final_test_acc": 1'*) ;; *) fail "the cnn did not learn the toy task: $out" ;; esac
"$NNINIT" model --keras "$T/cnn.json" -o "$T/ref" --format npy-dir || fail "nninit model"
[ -f "$T/init/conv2d/kernel.npy" ] && [ -f "$T/init/bn/moving_variance.npy" ] || fail "--init-out files: $(ls -R "$T/init")"
diff -r "$T/ref" "$T/init" >/dev/null || fail "step-0 weights differ from nninit model's"
run --model "$T/cnn.json" --init-out "$T/init2" --seed 7 >/dev/null 2>&1
diff -r "$T/ref" "$T/init2" >/dev/null && fail "another seed gave the same weights"

# nninit's layer list: a residual block with a SkipInit scalar, on the images view of the folder
cat > "$T/res.json" <<'JSON'
[{"class_name": "Conv2D", "name": "stem", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
 {"class_name": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
 {"class_name": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same"},
 {"class_name": "Scale", "name": "alpha", "multiplier_initializer": "zeros"},
 {"class_name": "Add", "inputs": ["stem", "alpha"]},
 {"class_name": "GlobalAveragePooling2D"},
 {"class_name": "Dense", "units": 2}]
JSON
out=$(run --model "$T/res.json" --data fashion-mnist-images --data-dir "$T" --epochs 5 --monitor 2 \
      --monitor-log "$T/mon.jsonl" --json 2>/dev/null) || fail "residual model exited $?"
case "$out" in *'"final_test_acc": 1'*) ;; *) fail "the residual net did not learn the toy task: $out" ;; esac
# 40 rows in batches of 8: 5 steps an epoch, 25 steps, monitored at 2, 4, ..., 24: 12 times 7 layers
[ "$(wc -l < "$T/mon.jsonl")" -eq 84 ] || fail "monitor lines: $(wc -l < "$T/mon.jsonl")"
head -n 1 "$T/mon.jsonl" | grep -q '^{"epoch": 1, "step": 2, "loss": [0-9.e-]*, "layer": 0, "name": "conv2d_0", "act_mean": .*"frac_dead": .*"update_ratio": [0-9.e-]*}$' \
    || fail "monitor line: $(head -n 1 "$T/mon.jsonl")"
# a diverging run: a clear message, the log kept with a diverged line, JSON with a diverged field
out=$(run --model "$T/res.json" --data fashion-mnist-images --data-dir "$T" --lr 1e30 --monitor 1 \
      --monitor-log "$T/div.jsonl" --json 2>"$T/err"); rc=$?
[ $rc -eq 1 ] || fail "diverging cnn: exit $rc"
grep -q "diverged at epoch 1, step" "$T/err" || fail "divergence message: $(cat "$T/err")"
tail -n 1 "$T/div.jsonl" | grep -q '^{"diverged": "diverged at epoch 1' || fail "monitor log end: $(tail -n 1 "$T/div.jsonl")"
case "$out" in *'"diverged": "diverged at epoch 1'*) ;; *) fail "--json diverged field: $out" ;; esac

# shapes that do not chain fail before training, naming both layers
echo '[{"class_name": "Conv2D", "filters": 2, "kernel_size": 2}, {"class_name": "Dense", "units": 2}]' > "$T/bad.json"
err=$(run --model "$T/bad.json" --data fashion-mnist-images --data-dir "$T" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "conv into dense: exit $rc"
echo "$err" | grep -q "dense_0: cannot take the (3, 3, 2) image output of conv2d_0" || fail "message: $err"
err=$(run --model "$T/bad.json" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "conv on flat rows: exit $rc"
echo "$err" | grep -q "conv2d_0: cannot take the (16) network input" || fail "message: $err"
echo '[{"class_name": "SeparableConv2D", "filters": 2, "kernel_size": 2}]' > "$T/bad.json"
err=$(run --model "$T/bad.json" 2>&1 >/dev/null)
echo "$err" | grep -q "'SeparableConv2D' is not supported by the engine; supported: Dense, .*Conv2D" || fail "message: $err"
[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "one line: $err"
run --monitor 5 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--monitor without --monitor-log"
# recurrent: a Keras LSTM reads the 4x4 images as 4 steps of 4 features; step 0 equals `nninit model`
cat > "$T/lstm.json" <<'JSON'
{"class_name": "Sequential", "config": {"name": "rnn", "layers": [
 {"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 4], "name": "input_layer"}},
 {"class_name": "LSTM", "config": {"name": "lstm", "units": 6, "activation": "tanh", "recurrent_activation": "sigmoid",
  "use_bias": true, "kernel_initializer": "glorot_uniform", "recurrent_initializer": "orthogonal",
  "bias_initializer": "zeros", "unit_forget_bias": true, "dropout": 0.0, "recurrent_dropout": 0.0,
  "return_sequences": false, "return_state": false, "go_backwards": false, "stateful": false, "unroll": false}},
 {"class_name": "Dense", "config": {"name": "dense", "units": 2}}]}}
JSON
out=$(run --model "$T/lstm.json" --data fashion-mnist-rows --data-dir "$T" --epochs 5 --init-out "$T/linit" --json \
      2>/dev/null) || fail "keras lstm exited $?"
case "$out" in *'"final_test_acc": 1'*) ;; *) fail "the lstm did not learn the toy task: $out" ;; esac
"$NNINIT" model --keras "$T/lstm.json" -o "$T/lref" --format npy-dir || fail "nninit model (lstm)"
diff -r "$T/lref" "$T/linit" >/dev/null || fail "lstm step-0 weights differ from nninit model's"
# --lsuv names the recurrent layer it does not rescale
run --model "$T/lstm.json" --data fashion-mnist-rows --data-dir "$T" --epochs 1 --lsuv >/dev/null 2>"$T/err" ||
    fail "lstm --lsuv: $(cat "$T/err")"
grep -q "^nninit: lsuv: layer 1 (dense_0): variance" "$T/err" && grep -q "not rescaled .*: layer 0 (lstm_0)$" "$T/err" ||
    fail "lstm --lsuv report: $(cat "$T/err")"
echo '[{"class_name": "GRU", "units": 4}, {"class_name": "Dense", "units": 2}]' > "$T/gru.json"
err=$(run --model "$T/gru.json" --data fashion-mnist-images --data-dir "$T" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "gru on images: exit $rc"
echo "$err" | grep -q "gru_0: cannot take the (4, 4, 1) network input; it needs (steps, features)" || fail "message: $err"
# tokens: a second folder whose pixels are 0 or 255, so x/255 gives token ids 0 and 1 (16 per image)
mkdir "$T/tok"
mkidx train 40 377 "$T/tok"
mkidx t10k 20 377 "$T/tok"
# a Keras Functional pre-LN transformer block (Embedding, LayerNormalization, causal MultiHeadAttention, Add,
# gelu MLP, Add) reads the 16 ids; step 0 equals `nninit model`, and it learns the toy task
cat > "$T/tf.json" <<'JSON'
{"class_name": "Functional", "config": {"name": "gpt", "layers": [
 {"class_name": "InputLayer", "name": "tokens", "config": {"batch_shape": [null, 16], "name": "tokens"}, "inbound_nodes": []},
 {"class_name": "Embedding", "name": "emb", "config": {"name": "emb", "input_dim": 2, "output_dim": 8,
  "embeddings_initializer": {"class_name": "RandomUniform", "config": {"minval": -0.05, "maxval": 0.05, "seed": null}},
  "embeddings_regularizer": null, "activity_regularizer": null, "embeddings_constraint": null, "mask_zero": false},
  "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 16], "keras_history": ["tokens", 0, 0]}}], "kwargs": {}}]},
 {"class_name": "LayerNormalization", "name": "ln1", "config": {"name": "ln1", "axis": -1, "epsilon": 1e-05, "center": true, "scale": true,
  "rms_scaling": false, "beta_initializer": "zeros", "gamma_initializer": "ones"},
  "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 8], "keras_history": ["emb", 0, 0]}}], "kwargs": {}}]},
 {"class_name": "MultiHeadAttention", "name": "mha", "config": {"name": "mha", "num_heads": 2, "key_dim": 4, "value_dim": 4,
  "dropout": 0.0, "use_bias": true, "output_shape": null, "attention_axes": [1], "kernel_initializer": "glorot_uniform",
  "bias_initializer": "zeros"},
  "build_config": {"shapes_dict": {"query_shape": [null, 16, 8], "value_shape": [null, 16, 8], "key_shape": null}},
  "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 8], "keras_history": ["ln1", 0, 0]}},
                              {"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 8], "keras_history": ["ln1", 0, 0]}}],
                     "kwargs": {"use_causal_mask": true}}]},
 {"class_name": "Add", "name": "res1", "config": {"name": "res1"},
  "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 8], "keras_history": ["emb", 0, 0]}},
                               {"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 8], "keras_history": ["mha", 0, 0]}}]], "kwargs": {}}]},
 {"class_name": "LayerNormalization", "name": "ln2", "config": {"name": "ln2", "axis": -1, "epsilon": 1e-05},
  "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 8], "keras_history": ["res1", 0, 0]}}], "kwargs": {}}]},
 {"class_name": "Dense", "name": "ff1", "config": {"name": "ff1", "units": 16, "activation": "gelu", "kernel_initializer": "he_uniform"},
  "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 8], "keras_history": ["ln2", 0, 0]}}], "kwargs": {}}]},
 {"class_name": "Dense", "name": "ff2", "config": {"name": "ff2", "units": 8},
  "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 16], "keras_history": ["ff1", 0, 0]}}], "kwargs": {}}]},
 {"class_name": "Add", "name": "res2", "config": {"name": "res2"},
  "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 8], "keras_history": ["res1", 0, 0]}},
                               {"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 8], "keras_history": ["ff2", 0, 0]}}]], "kwargs": {}}]},
 {"class_name": "Flatten", "name": "flat", "config": {"name": "flat"},
  "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 8], "keras_history": ["res2", 0, 0]}}], "kwargs": {}}]},
 {"class_name": "Dense", "name": "head", "config": {"name": "head", "units": 2},
  "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 128], "keras_history": ["flat", 0, 0]}}], "kwargs": {}}]}],
 "input_layers": [["tokens", 0, 0]], "output_layers": [["head", 0, 0]]}}
JSON
out=$(run --model "$T/tf.json" --data "$T/tok" --init-out "$T/tinit" --json 2>/dev/null) || fail "keras transformer exited $?"
case "$out" in *'"final_test_acc": 1'*) ;; *) fail "the transformer did not learn the toy task: $out" ;; esac
"$NNINIT" model --keras "$T/tf.json" -o "$T/tref" --format npy-dir || fail "nninit model (transformer)"
[ -f "$T/tinit/mha/attention_output/kernel.npy" ] || fail "--init-out files: $(ls -R "$T/tinit")"
diff -r "$T/tref" "$T/tinit" >/dev/null || fail "transformer step-0 weights differ from nninit model's"
# pixels that are not token ids are refused with the layer's name
err=$(run --model "$T/tf.json" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "embedding of 200/255 pixels: exit $rc"
echo "$err" | grep -q "embedding_0: input 0.78.* is not a token id; expected integers 0 .. 1" || fail "message: $err"
# cross-attention and a value_dim other than key_dim are refused in one line
sed 's/"keras_history": \["ln1", 0, 0\]}}],/"keras_history": ["emb", 0, 0]}}],/' "$T/tf.json" > "$T/cross.json"
err=$(run --model "$T/cross.json" --data "$T/tok" 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "MultiHeadAttention): query, value and key must be the same tensor" \
    || fail "cross-attention: exit $rc, $err"
sed 's/"value_dim": 4/"value_dim": 3/' "$T/tf.json" > "$T/vdim.json"
err=$(run --model "$T/vdim.json" --data "$T/tok" 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "value_dim 3 differs from key_dim" || fail "value_dim: exit $rc, $err"
# a PyTorch recipe: the same layers from `nninit model --torch` syntax, PyTorch layouts (packed in_proj, LSTM/GRU
# weight_ih/weight_hh with two biases, BatchNorm's counter), nninit's wrappers; step 0 equals `nninit model --torch`
R="Sequential(Embedding(2, 8), Positions(wpe=Embedding(16, 8)), Causal(block=TransformerEncoderLayer(8, 2, 16, \
dropout=0.0, activation='gelu', batch_first=True, norm_first=True)), Residual(body=Sequential(LayerNorm(8), \
Causal(block=MultiheadAttention(8, 2, batch_first=True)))), LSTM(8, 6, batch_first=True), \
LastStep(rnn=GRU(6, 5, batch_first=True, num_layers=2)), BatchNorm1d(5), Linear(5, 2))"
out=$(run --torch "$R" --data "$T/tok" --lr 0.1 --epochs 4 --init-out "$T/rinit" --json 2>/dev/null) || fail "recipe exited $?"
case "$out" in *'"final_test_acc": 1'*) ;; *) fail "the recipe did not learn the toy task: $out" ;; esac
"$NNINIT" model --torch "$R" -o "$T/rref" --format npy-dir || fail "nninit model --torch"
[ -f "$T/rinit/4.weight_ih_l0.npy" ] && [ -f "$T/rinit/6.weight.npy" ] || fail "--init-out files: $(ls "$T/rinit")"
diff -r "$T/rref" "$T/rinit" >/dev/null || fail "recipe step-0 weights differ from nninit model --torch's"
# a CNN recipe with a residual block on the images view (Linear and Conv2d kernels transposed in and out)
R2="Sequential(Conv2d(1, 4, 3, padding=1), ReLU(), Residual(body=Sequential(Conv2d(4, 4, 3, padding=1), ReLU(), \
Conv2d(4, 4, 3, padding='same'))), MaxPool2d(2), Flatten(), Linear(16, 2))"
out=$(run --torch "$R2" --data fashion-mnist-images --data-dir "$T" --init-out "$T/cinit" --json 2>/dev/null) \
    || fail "cnn recipe exited $?"
case "$out" in *'"final_test_acc": 1'*) ;; *) fail "the cnn recipe did not learn the toy task: $out" ;; esac
"$NNINIT" model --torch "$R2" -o "$T/cref" --format npy-dir || fail "nninit model --torch (cnn)"
diff -r "$T/cref" "$T/cinit" >/dev/null || fail "cnn recipe step-0 weights differ from nninit model --torch's"
# what training cannot honour is refused in one line naming it
err=$(run --torch "Sequential(LSTM(16, 4), Linear(4, 2))" 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "LSTM(): give batch_first=True" || fail "batch_first: exit $rc, $err"
err=$(run --torch "Sequential(Linear(16, 4), Conv2d(4, 4, 3, stride=2, padding=1))" 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "Conv2d(): padding=1 with kernel 3, stride 2 is not an engine padding" \
    || fail "conv padding: exit $rc, $err"
err=$(run --torch "Net(a=Linear(16, 2))" 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "Net is not a module nninit train runs; supported: Sequential" \
    || fail "custom module: exit $rc, $err"
[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "one line: $err"
err=$(run --torch "Sequential(Linear(16, 2))" --layout keras 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "--torch --layout keras: exit $rc"
# generated sequence sets: per-step classes (copy memory) and a real target (adding, mse by default)
out=$("$NNINIT" train --data copy --seq-len 22 --limit 64 --epochs 1 --batch 16 --threads 1 \
      --torch "Sequential(Embedding(10, 4), GRU(4, 8, batch_first=True), Linear(8, 9))" 2>/dev/null) \
    || fail "copy memory exited $?"
[ "$(echo "$out" | head -n 1)" = "epoch  train_loss  train_acc  test_loss  test_acc  seconds" ] || fail "header: $out"
json=$("$NNINIT" train --data adding --seq-len 8 --limit 64 --epochs 1 --batch 16 --threads 1 --json \
      --torch "Sequential(LastStep(rnn=RNN(2, 8, batch_first=True)), Linear(8, 1))" 2>/dev/null) || fail "adding exited $?"
case "$json" in *'"train_acc": null'*'"test_loss": '[0-9]*) ;; *) fail "adding: $json" ;; esac
# --clip-norm: a bound far below the gradient norm changes the run; a negative one is refused
clipped=$("$NNINIT" train --data adding --seq-len 8 --limit 64 --epochs 1 --batch 16 --threads 1 --json --clip-norm 0.001 \
      --torch "Sequential(LastStep(rnn=RNN(2, 8, batch_first=True)), Linear(8, 1))" 2>/dev/null) || fail "clip exited $?"
[ "$(echo "$clipped" | sed 's/"seconds[^,]*,//g; s/"cpu_seconds[^,]*,//g')" != \
  "$(echo "$json" | sed 's/"seconds[^,]*,//g; s/"cpu_seconds[^,]*,//g')" ] || fail "--clip-norm 0.001 changed nothing"
err=$("$NNINIT" train --data adding --seq-len 8 --limit 8 --clip-norm -1 \
      --torch "Sequential(Flatten(), Linear(16, 1))" 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "gradient clip norm -1; expected a finite value >= 0" || fail "clip -1: exit $rc, $err"
# --val holds out sequences with their per-step targets; --standardize is refused on ids in one line
json=$("$NNINIT" train --data copy --seq-len 22 --limit 64 --val 0.25 --epochs 1 --batch 16 --threads 1 --json \
      --torch "Sequential(Embedding(10, 4), GRU(4, 8, batch_first=True), Linear(8, 9))" 2>"$T/val.err") \
    || fail "copy --val exited $?"
case "$json" in *'"val_acc": '[0-9]*) ;; *) fail "copy --val: $json" ;; esac
grep -q "data: 48 train, 16 validation, 2000 test" "$T/val.err" || fail "copy --val split: $(cat "$T/val.err")"
err=$("$NNINIT" train --data fortunes --standardize 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [ "$(echo "$err" | wc -l)" -eq 1 ] && \
    echo "$err" | grep -q "fortunes: --standardize takes image pixels, and fortunes gives token ids" \
    || fail "fortunes --standardize: exit $rc, $err"
# Embedding(padding_idx=k): step 0 as nninit model --torch writes it (row k zero; -1 counts from the end)
R3="Sequential(Embedding(10, 4, padding_idx=-1), GRU(4, 8, batch_first=True), Linear(8, 9))"
"$NNINIT" train --data copy --seq-len 22 --limit 32 --epochs 1 --batch 16 --threads 1 --torch "$R3" \
    --init-out "$T/pinit" >/dev/null 2>&1 || fail "padding_idx recipe exited $?"
"$NNINIT" model --torch "$R3" -o "$T/pref" --format npy-dir || fail "nninit model --torch (padding_idx)"
diff -r "$T/pref" "$T/pinit" >/dev/null || fail "padding_idx step-0 weights differ from nninit model --torch's"
err=$("$NNINIT" train --data copy --torch "Sequential(Embedding(10, 4, padding_idx=10), Linear(4, 9))" 2>&1 >/dev/null)
rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "padding_idx must be an integer within num_embeddings" \
    || fail "padding_idx 10: exit $rc, $err"
err=$("$NNINIT" train --data copy --seq-len 20 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "copy memory has delay + 20 steps" || fail "copy --seq-len 20: exit $rc, $err"
err=$("$NNINIT" train --seq-len 20 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "only with a sequence set" || fail "--seq-len alone: exit $rc, $err"
err=$("$NNINIT" train --data adding --loss ce --torch "Sequential(Flatten(), Linear(100, 1))" --limit 8 2>&1 >/dev/null)
rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "real targets; train them with the mse loss" || fail "adding ce: exit $rc, $err"
exit 0
