#!/bin/sh
# Values and text: parameters that would overflow to inf/NaN are refused,
# --stats is always valid JSON, names are printed escaped, messages say what
# was given.
set -u
N=${NNINIT:-build/nninit}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# inf/NaN tensors were written with exit 0 (and --stats printed "-nan").
for spec in 'RandomNormal(stddev=1e308)' 'Constant(1e39)' 'RandomUniform(minval=-1e308, maxval=1e308)' \
            'TruncatedNormal(mean=1e300)' 'normal_(std=1e39)'; do
    "$N" gen "$spec" --shape 3 --stats >"$T/o" 2>"$T/e"; rc=$?
    [ $rc -eq 2 ] || fail "$spec: exit $rc, output $(cat "$T/o")"
    [ "$(wc -l <"$T/e")" -eq 1 ] && grep -q 'would hold inf or NaN' "$T/e" || fail "$spec: $(cat "$T/e")"
done
"$N" gen 'Constant(1e39)' --shape 3 --dtype float64 --stats >/dev/null || fail "1e39 fits float64"
"$N" gen 'RandomUniform(minval=-3e38, maxval=0)' --shape 100 --stats >/dev/null || fail "a range that fits"
# --stats is JSON: no inf/nan tokens whatever the values
"$N" gen 'RandomNormal(stddev=3e37)' --shape 1000 --stats >"$T/s" || fail "large std"
grep -qi 'nan\|inf' "$T/s" && fail "--stats not JSON: $(cat "$T/s")"

# Names with control characters are printed escaped, on one line.
printf '{"tensors": [{"name": "a\\u001b[31mb\\nc", "shape": [2], "init": "ones"}]}' >"$T/n.json"
"$N" model --spec "$T/n.json" -o "$T/n.safetensors" || fail "control-character name"
"$N" inspect "$T/n.safetensors" --brief >"$T/o" || fail inspect
[ "$(wc -l <"$T/o")" -eq 2 ] || fail "a name broke the line: $(cat "$T/o")"
grep -q 'a\\x1b\[31mb\\x0ac  F32' "$T/o" || fail "name not escaped: $(cat "$T/o")"
"$N" model --spec "$T/n.json" --list | grep -q '^a\\x1b\[31mb\\x0ac	' || fail "--list name not escaped"
"$N" inspect "$T/n.safetensors" --tensor "$(printf 'x\ny')" >/dev/null 2>"$T/e"
[ "$(wc -l <"$T/e")" -eq 1 ] || fail "two-line error: $(cat "$T/e")"

# 'units: 1e18' said "needs units >= 1"
sed 's/"units": [0-9]*/"units": 1e18/' tests/fixtures/keras/cnn_keras3.json >"$T/u.json"
"$N" model --keras "$T/u.json" --list 2>"$T/e"; [ $? -eq 2 ] || fail "units 1e18: exit"
grep -q 'units is 1e18; expected an integer' "$T/e" || fail "units 1e18: $(cat "$T/e")"
# npz: a deflated member claiming more than deflate's 1032:1 is refused before
# inflating (as IDX); a real 16 MB member of zeros (about 1000:1) still reads.
echo '{"tensors": [{"name": "z", "shape": [4000, 1000], "init": "zeros"}]}' |
    "$N" model --spec - --format npz-deflated -o "$T/zeros.npz" || fail "npz of zeros"
"$N" inspect "$T/zeros.npz" --brief >/dev/null || fail "a genuine 1000:1 member refused"
cp "$T/zeros.npz" "$T/bomb.npz"
c=$(grep -obUaP 'PK\x01\x02' "$T/bomb.npz" | head -1 | cut -d: -f1)
printf '\000\000\000\100' | dd of="$T/bomb.npz" bs=1 seek=$((c + 24)) conv=notrunc 2>/dev/null
printf '\000\000\000\100' | dd of="$T/bomb.npz" bs=1 seek=22 conv=notrunc 2>/dev/null
"$N" inspect "$T/bomb.npz" 2>"$T/e"; [ $? -eq 1 ] || fail "npz ratio: exit"
grep -q "beyond deflate's 1032:1" "$T/e" || fail "npz ratio: $(cat "$T/e")"
exit 0
