#!/bin/sh
# float64 normal_ of the torch stream runs on src/rng/torch_libm.c's vector
# log, sin and cos only where they give this process's libm bits: with
# glibc's FMA variants masked (GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,
# which makes glibc pick its SSE2 code) the output must equal the reference
# path's (NNINIT_SIMD=scalar: libm called per pair) under the same mask, as
# it must without the mask. The mask must change some bits of a 256 Ki
# tensor on glibc 2.36 (about 1 in 10^3 sin/cos values differ between the
# variants), else the comparison would prove nothing; elsewhere (another
# libm, no such tunable) that last check is skipped.
set -u
NNINIT=${NNINIT:-build/nninit}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
MASK=glibc.cpu.hwcaps=-AVX2,-FMA

gen() { # OUT [ENV=VALUE...]
    out=$1
    shift
    env "$@" "$NNINIT" gen 'normal_(mean=0.1,std=0.3)' --shape 256,1024 --layout torch --rng torch \
        --dtype float64 --seed 11 -o "$out" || { echo "gen failed: $*"; fail=1; }
}

gen "$tmp/fast.npy"
gen "$tmp/ref.npy" NNINIT_SIMD=scalar
cmp -s "$tmp/fast.npy" "$tmp/ref.npy" || { echo "fast path differs from libm calls"; fail=1; }
gen "$tmp/fast_masked.npy" GLIBC_TUNABLES=$MASK
gen "$tmp/ref_masked.npy" GLIBC_TUNABLES=$MASK NNINIT_SIMD=scalar
cmp -s "$tmp/fast_masked.npy" "$tmp/ref_masked.npy" ||
    { echo "with $MASK the fast path differs from libm calls: torch_libm's self-check let the wrong variant through"; fail=1; }
if command -v ldd >/dev/null 2>&1 && ldd --version 2>&1 | head -n 1 | grep -q ' 2\.36$'; then
    cmp -s "$tmp/ref.npy" "$tmp/ref_masked.npy" &&
        { echo "glibc 2.36: $MASK changed no bit (the test would prove nothing)"; fail=1; }
fi
exit $fail
