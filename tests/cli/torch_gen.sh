#!/bin/sh
# nninit gen --rng torch:<variant>: nn.Linear(20, 30)'s weight then bias from
# one stream (--repeat), compared byte for byte with the torch 1.13.1
# fixtures of tools/make_torch_fixtures.py, for a negative seed and both
# dtypes; then the one-line error for an unsupported torch2 request.
set -u
NNINIT=${NNINIT:-build/nninit}
FIX=${NNINIT_FIXTURES:-tests/fixtures}/torch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# fixture_bytes VARIANT DTYPE SEED SHAPE SPEC_PREFIX OUT: the stored bytes of
# the first matching manifest line.
fixture_bytes() {
    line=$(awk -v dt="$2" -v seed="$3" -v shp="$4" -v pre="$5" \
        '$2 == dt && $3 == seed && $5 == shp && index($4, pre) == 1 { print; exit }' "$FIX/$1.txt")
    [ -n "$line" ] || { echo "no fixture for $*"; return 1; }
    off=$(echo "$line" | awk '{ print $7 }')
    n=$(echo "$line" | awk '{ print $8 }')
    es=4
    [ "$2" = float64 ] && es=8
    dd if="$FIX/$1.bin" of="$6" bs=1 skip="$off" count=$((n * es)) 2>/dev/null
}

bound=0.22360679774997896 # 1 / math.sqrt(20), as nn.Linear computes it
for variant in default avx2; do
    for dtype in float32 float64; do
        es=4
        [ "$dtype" = float64 ] && es=8
        if ! "$NNINIT" gen 'kaiming_uniform_(a=2.23606797749979)' --shape 30,20 --layout torch \
            --rng "torch:$variant" --seed -1 --dtype "$dtype" -o "$tmp/w.npy" \
            --repeat "uniform_(a=-$bound, b=$bound)" --shape 30 --layout torch -o "$tmp/b.npy"; then
            echo "gen failed ($variant $dtype)"
            fail=1
            continue
        fi
        fixture_bytes "$variant" "$dtype" 18446744073709551615 30x20 kaiming_uniform_ "$tmp/w.want" || fail=1
        fixture_bytes "$variant" "$dtype" 18446744073709551615 30 uniform_ "$tmp/b.want" || fail=1
        tail -c $((600 * es)) "$tmp/w.npy" >"$tmp/w.got"
        tail -c $((30 * es)) "$tmp/b.npy" >"$tmp/b.got"
        cmp -s "$tmp/w.got" "$tmp/w.want" || { echo "weight differs from torch ($variant $dtype)"; fail=1; }
        cmp -s "$tmp/b.got" "$tmp/b.want" || { echo "bias differs from torch ($variant $dtype)"; fail=1; }
    done
done

# torch2 trunc_normal_ (>= 2.12 rejection sampling) is refused with one line.
"$NNINIT" gen 'trunc_normal_(std=0.02)' --shape 8 --rng torch2:avx2 --seed 0 -o "$tmp/t.npy" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || [ -e "$tmp/t.npy" ]; then
    echo "torch2 trunc_normal_: expected one error line and no file, got rc $rc:"
    cat "$tmp/err"
    fail=1
fi
exit $fail
