#!/bin/sh
# make check-data: real Fashion-MNIST training runs (not part of make check,
# which must pass without the data set). Needs Debian's dataset-fashion-mnist
# or NNINIT_DATA pointing at the four IDX files. About 25 s on one idle core.
#   1. 784-256-256-10 ReLU, He-normal, SGD momentum 0.9, batch 128, lr 0.1 with
#      a cosine schedule, 10 epochs: the final test accuracy must be >= 0.88.
#   2. --compare zeros,he_normal for 3 epochs: zeros must stay near chance
#      (test accuracy < 0.2) while he_normal passes 0.8.
#   3. The small Keras CNN (tests/fixtures/keras/train_cnn.json: conv 8 relu,
#      pool, conv 16 relu, pool, dense 10; 28x28x1 declared), SGD momentum 0.9,
#      lr 0.05, 3 epochs: test accuracy >= 0.85 (measured 0.8638, seed 1).
#   4. The Keras Functional residual net (train_resnet.json: stride-2 stem,
#      one block conv-conv-BN(gamma 0)-Add, global average pooling, dense 10),
#      same optimizer, 3 epochs: >= 0.65 (measured 0.747; 16 channels pooled
#      globally is a weak classifier, the point is that the graph trains).
#   5. A Keras LSTM(64) on the 28 rows of each image (train_lstm.json), Adam
#      lr 0.003, 3 epochs: >= 0.84 (measured 0.8589, seed 1).
# Runs 3-5 add about 3 minutes on a loaded 2-core machine.
set -u
NNINIT=${1:-build/nninit}
dir=${NNINIT_DATA:-/usr/share/datasets/fashion-mnist}
if [ ! -e "$dir/train-images-idx3-ubyte.gz" ] && [ ! -e "$dir/train-images-idx3-ubyte" ]; then
    echo "check-data: no Fashion-MNIST in $dir; install it with 'apt-get install dataset-fashion-mnist'" >&2
    exit 1
fi
threads=${THREADS:-1}
json=$("$NNINIT" train --layers 256,256 --act relu --init he_normal --bias-init zeros --optimizer sgd \
    --momentum 0.9 --lr 0.1 --schedule cosine --batch 128 --epochs 10 --seed 1 --threads "$threads" --json) || exit 1
acc=$(echo "$json" | sed -n 's/.*"final_test_acc": \([0-9.e-]*\)}$/\1/p')
echo "check-data: he_normal 784-256-256-10, 10 epochs: test accuracy $acc (target >= 0.88)"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.88) }' || { echo "check-data: FAILED: accuracy $acc < 0.88"; exit 1; }

json=$("$NNINIT" train --compare zeros,he_normal --momentum 0.9 --lr 0.1 --epochs 3 --seed 1 --threads "$threads" \
    --json --quiet) || exit 1
zeros=$(echo "$json" | sed -n 's/.*"init": "zeros".*"final_test_acc": \([0-9.e-]*\), "diverged".*"init": "he_normal".*/\1/p')
he=$(echo "$json" | sed -n 's/.*"init": "he_normal".*"final_test_acc": \([0-9.e-]*\), "diverged".*/\1/p')
echo "check-data: 3 epochs: zeros test accuracy $zeros (chance 0.1), he_normal $he"
awk -v z="$zeros" -v h="$he" 'BEGIN { exit !(z < 0.2 && h > 0.8) }' || { echo "check-data: FAILED: zeros $zeros, he_normal $he"; exit 1; }
fix=$(dirname "$0")/fixtures/keras
for m in cnn:0.85 resnet:0.65; do
    name=${m%%:*} target=${m#*:}
    json=$("$NNINIT" train --model "$fix/train_$name.json" --optimizer sgd --momentum 0.9 --lr 0.05 --epochs 3 \
        --seed 1 --threads "$threads" --json) || exit 1
    acc=$(echo "$json" | sed -n 's/.*"final_test_acc": \([0-9.e-]*\)}$/\1/p')
    echo "check-data: Keras $name, 3 epochs: test accuracy $acc (target >= $target)"
    awk -v a="$acc" -v t="$target" 'BEGIN { exit !(a >= t) }' || { echo "check-data: FAILED: $name $acc < $target"; exit 1; }
done
json=$("$NNINIT" train --model "$fix/train_lstm.json" --optimizer adam --lr 0.003 --epochs 3 --seed 1 \
    --threads "$threads" --json) || exit 1
acc=$(echo "$json" | sed -n 's/.*"final_test_acc": \([0-9.e-]*\)}$/\1/p')
echo "check-data: Keras LSTM on image rows, 3 epochs: test accuracy $acc (target >= 0.84)"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.84) }' || { echo "check-data: FAILED: lstm $acc < 0.84"; exit 1; }
echo "check-data: OK"
