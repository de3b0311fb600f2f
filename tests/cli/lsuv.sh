#!/bin/sh
# nninit train --lsuv on a tiny IDX data set made here
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
# LSUV rescales a badly scaled init before training; zero kernels are refused
out=$("$NNINIT" train --data "$T" --layers 8x6 --act tanh --init 'RandomNormal(stddev=0.01)' --lsuv \
      --epochs 3 --batch 8 --lr 0.1 --threads 1 --json 2>/dev/null) || fail "--lsuv run exited $?"
case "$out" in *'"final_test_acc": 1'*) ;; *) fail "--lsuv did not learn the toy task: $out" ;; esac
"$NNINIT" train --data "$T" --layers 8 --init zeros --lsuv --epochs 1 --threads 1 >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "--lsuv on zeros should fail"
grep -q "variance is 0" "$T/err" || fail "message: $(cat "$T/err")"
"$NNINIT" train --help | grep -q -- '--lsuv' || fail "--help lists --lsuv"
exit 0
