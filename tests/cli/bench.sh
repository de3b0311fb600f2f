#!/bin/sh
# CLI contract of `nninit bench`: a tiny table runs and has every row, the CSV
# form has its header and one line per row, bad options are usage errors
# (exit 2, one line on stderr), NNINIT_SIMD=scalar is accepted, --torch
# prints its table with or without PyTorch.
set -u
N=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$N" bench --help | grep -q -- '--sizes' || fail "bench --help"
"$N" bench --sizes 64Ki --threads 2 --reps 1 --warm-only >"$T/out" || fail "bench run"
for op in memset uniform normal trunc_normal trunc_v2 trunc_v1; do
    [ "$(grep -c " warm  *$op " "$T/out")" -eq 2 ] || fail "row $op for 1 and 2 threads: $(cat "$T/out")"
done
NNINIT_SIMD=scalar "$N" bench --sizes 4096 --reps 1 --csv >"$T/csv" || fail "bench --csv"
head -n 1 "$T/csv" | grep -q '^elements,threads,buffer,op,median_s' || fail "csv header"
# 1 size x (1 thread + all) x 3 buffer states x 6 ops, when there are 2+ CPUs
rows=$(($(wc -l <"$T/csv") - 1))
[ "$rows" -eq 18 ] || [ "$rows" -eq 36 ] || fail "csv rows $rows"
# --torch: 10 rows a dtype (7 torch-stream functions, 3 Philox distributions), 2 more in
# float32 (the Philox truncated normal in stream formats 2 and 1);
# without a Python that imports torch it says so and times nninit alone
NNINIT_PYTHON=/nonexistent/python3 "$N" bench --torch --no-gen --sizes 2048 --reps 1 >"$T/t" || fail "bench --torch"
grep -q '^# PyTorch not timed' "$T/t" || fail "--torch without PyTorch: $(cat "$T/t")"
[ "$(grep -c '^ *2048 float' "$T/t")" -eq 22 ] || fail "--torch rows: $(cat "$T/t")"
grep -q '^ *2048 float32 philox1 trunc_normal_' "$T/t" || fail "--torch: no format-1 truncated normal row"
"$N" bench --torch --no-gen --python /nonexistent/python3 --sizes 2048 --reps 1 --csv >"$T/tc" || fail "--torch --csv"
[ "$(grep -c '^torch,2048,' "$T/tc")" -eq 22 ] || fail "--torch csv rows: $(cat "$T/tc")"
for bad in "--sizes 0" "--sizes 12X" "--threads -1" "--reps 0" "--bogus" "--python"; do
    # shellcheck disable=SC2086
    "$N" bench $bad >"$T/o" 2>"$T/e"; rc=$?
    [ $rc -eq 2 ] || fail "'$bad' exit $rc"
    [ "$(wc -l <"$T/e")" -eq 1 ] || fail "'$bad' message: $(cat "$T/e")"
    grep -q '^nninit: ' "$T/e" || fail "'$bad' message prefix"
done
exit 0
