#!/bin/sh
# Scale without MPI: a model larger than a small memory budget streams
# (peak RSS measured with /usr/bin/time), an injected write failure
# (RLIMIT_FSIZE) leaves nothing under the final name with one line and exit
# 1, --memory-limit names the tensor it refuses, and gen/model slices equal
# the whole tensor's slices (cut here with dd, without Python).
set -u
N=${NNINIT:-build/nninit}
case $N in /*) ;; *) N=$(pwd)/$N ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$T" || exit 1

# 1. 320 MB of float32 (two 40M-element tensors) in a peak RSS under 160 MB:
# before, the largest tensor (160 MB) was held whole, and with --rng torch every
# tensor, later the largest; now both generators stream 16 MiB chunks (torch
# carrying its generator from chunk to chunk). /usr/bin/time -f %M: peak RSS in KiB.
cat > big.json <<'J'
{"tensors": [{"name": "a", "shape": [8000, 10000], "init": "he_normal"},
             {"name": "b", "shape": [10000, 8000], "init": "glorot_uniform"}]}
J
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o rss "$N" model --spec big.json -o big.safetensors --threads 2 || fail "big model"
    rss=$(tail -1 rss)
    [ "$(stat -c %s big.safetensors)" -gt 320000000 ] || fail "big model size"
    [ "$rss" -lt 163840 ] || fail "peak RSS ${rss} KiB for a 320 MB model; expected < 160 MiB"
    /usr/bin/time -f %M -o rss "$N" model --spec big.json --rng torch -o big.npz || fail "big model, torch"
    rss=$(tail -1 rss)
    [ "$(stat -c %s big.npz)" -gt 320000000 ] || fail "big model size, torch"
    [ "$rss" -lt 163840 ] || fail "--rng torch: peak RSS ${rss} KiB for a 320 MB model; expected < 160 MiB"
    # file order (a stream): the generator runs ahead through the construction
    # order and redraws what the file wants later, holding nothing
    /usr/bin/time -f %M -o rss "$N" model --spec big.json --rng torch -o - > big.st || fail "big model to stdout"
    rss=$(tail -1 rss)
    [ "$(stat -c %s big.st)" -gt 320000000 ] || fail "big model size, stdout"
    [ "$rss" -lt 163840 ] || fail "-o -: peak RSS ${rss} KiB for a 320 MB model; expected < 160 MiB"
    rm -f big.safetensors big.npz big.st
else
    fail "/usr/bin/time is missing (Debian package: time)"
fi

# 2. RLIMIT_FSIZE: the space is reserved before drawing, so the limit stops the
# run at once: exit 1, one line naming the file, nothing left.
R='Sequential(Linear(300, 200), ReLU(), Linear(200, 10))'
for fmt in safetensors npz; do
    (ulimit -f 100; "$N" model --torch "$R" --format $fmt -o lim.$fmt 2>err); rc=$?
    [ $rc -eq 1 ] || fail "$fmt under a file-size limit: exit $rc"
    [ "$(wc -l < err)" -eq 1 ] || fail "$fmt: expected one line: $(cat err)"
    grep -q "lim.$fmt" err || fail "$fmt: the message names no file: $(cat err)"
    [ -z "$(ls -A | grep lim)" ] || fail "$fmt: files left: $(ls -A)"
done
(ulimit -f 100; "$N" model --torch "$R" --max-shard-size 100KB -o sh.safetensors 2>err); rc=$?
[ $rc -eq 1 ] || fail "shards under a file-size limit: exit $rc"
[ -z "$(ls -A | grep '^\.\?sh')" ] || fail "shards: files left: $(ls -A)"

# 2b. A disk too small: posix_fallocate's ENOSPC (from a shim built here, so
# no small file system is needed) stops the run before anything is drawn:
# exit 1, one line saying so, no file under the final name, an existing
# file untouched, no temporary left.
cat > falloc.c <<'EOF'
#include <errno.h>
#include <sys/types.h>
int posix_fallocate(int fd, off_t off, off_t len)
{
    (void)fd, (void)off, (void)len;
    return ENOSPC;
}
EOF
cc -shared -fPIC -o falloc.so falloc.c || fail "cannot build the posix_fallocate shim"
"$N" model --torch "$R" -o keep.safetensors || fail "keep"
cp keep.safetensors keep.orig
for out in keep.safetensors new.safetensors new.npz "sh.safetensors --max-shard-size 100KB"; do
    # shellcheck disable=SC2086
    LD_PRELOAD=./falloc.so "$N" model --torch "$R" --seed 4 -o $out 2>err; rc=$?
    [ $rc -eq 1 ] || fail "ENOSPC ($out): exit $rc"
    [ "$(wc -l < err)" -eq 1 ] || fail "ENOSPC ($out): expected one line: $(cat err)"
    grep -q "the disk has no room for its .*(No space left on device); free space or choose another folder; nothing was written" err ||
        fail "ENOSPC ($out): $(cat err)"
    [ "$(ls -A | grep -c -e '^new' -e '^sh' -e '\.tmp\.')" -eq 0 ] || fail "ENOSPC ($out): files left: $(ls -A)"
    cmp -s keep.safetensors keep.orig || fail "ENOSPC ($out): the existing file changed"
done
rm -f keep.safetensors keep.orig

# 3. --memory-limit: a tensor generated whole that needs more is refused before
# any file exists, naming it and what it needs; element-wise ones stream.
"$N" model --torch 'Linear(2000, 2000)' --override weight=orthogonal --memory-limit 8MiB -o o.safetensors 2>err
[ $? -eq 1 ] || fail "memory limit: exit"
grep -q "tensor 'weight' (orthogonal) must be generated whole and needs about" err || fail "limit message: $(cat err)"
[ ! -e o.safetensors ] || fail "a refused write created the file"
"$N" model --torch 'Linear(2000, 2000)' --memory-limit 8MiB -o o.safetensors || fail "streaming under a limit"
"$N" model --torch 'Linear(2000, 2000)' --rng torch --memory-limit 8MiB -o t.safetensors || fail "torch under a limit"
"$N" model --torch 'Linear(2000, 2000)' --rng torch --override weight=orthogonal_ --memory-limit 8MiB \
    -o t.safetensors 2>err
[ $? -eq 1 ] || fail "torch orthogonal under a limit: exit"
grep -q "tensor 'weight' (orthogonal_) must be generated whole" err || fail "torch limit message: $(cat err)"

# 3b. npz to a stream: data descriptors after each member (the local header
# cannot be completed afterwards); Python's zipfile and numpy.load read the
# same tensors as from the file.
if command -v python3 >/dev/null && python3 -c 'import numpy' 2>/dev/null; then
    for fmt in npz npz-deflated; do
        "$N" model --torch "$R" --rng torch --format $fmt -o - > s.npz || fail "$fmt to stdout"
        "$N" model --torch "$R" --rng torch --format $fmt -o f.npz || fail "$fmt to a file"
        python3 - <<'PY' || fail "$fmt from a stream: numpy disagrees"
import zipfile, numpy as np
z = zipfile.ZipFile("s.npz")
assert z.testzip() is None
assert all(i.flag_bits & 8 for i in z.infolist())
a, b = np.load("s.npz"), np.load("f.npz")
assert sorted(a.files) == sorted(b.files) and len(a.files) == 4
for k in a.files:
    assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k
PY
    done
fi

# 3c. The progress line: on a terminal (script gives the command one), bytes
# and GB/s on stderr, for positioned and file-order writes; none when stderr
# is not a terminal.
if command -v script >/dev/null; then
    for fmt in safetensors npy-dir; do
        script -qec "'$N' model --torch '$R' --format $fmt -o p.$fmt" /dev/null > tty.out || fail "script $fmt"
        grep -q "model: 0.00 of 0.00 GB (100%), [0-9.]* GB/s" tty.out || fail "$fmt: no progress line: $(cat tty.out)"
        rm -rf p.$fmt
    done
    "$N" model --torch "$R" -o p.safetensors 2>err >out || fail "no tty"
    ! grep -q "GB/s" err out || fail "a progress line without a terminal: $(cat err)"
fi

# 4. Slices: gen --shard K/N equals the rows (dim 0) of the whole tensor; the
# column slices (dim 1) concatenated row by row rebuild it (uneven: 7 = 3+2+2).
"$N" gen he_normal --shape 10,7 -o full.npy || fail "gen full"
for k in 0 1 2; do
    "$N" gen he_normal --shape 10,7 --shard-dim 0 --shard $k/3 -o r$k.npy || fail "gen rows $k"
    "$N" gen he_normal --shape 10,7 --shard-dim 1 --shard $k/3 -o c$k.npy || fail "gen cols $k"
done
# rows: 4, 3, 3 of 7 float32 = 112, 84, 84 bytes after the 128-byte header
dd if=full.npy bs=1 skip=128 2>/dev/null > full.bin
for k in 0 1 2; do dd if=r$k.npy bs=1 skip=128 2>/dev/null; done | cmp -s - full.bin || fail "row slices differ"
: > cols.bin
for row in 0 1 2 3 4 5 6 7 8 9; do
    for k in 0 1 2; do
        w=$([ $k -eq 0 ] && echo 3 || echo 2)
        tail -c +$((128 + 1 + row * 4 * w)) c$k.npy | head -c $((4 * w)) >> cols.bin
    done
done
cmp -s cols.bin full.bin || fail "column slices do not rebuild the tensor"
"$N" gen he_normal --shape 10,7 --shard-dim 2 --shard 0/2 -o x.npy 2>err; [ $? -eq 2 ] || fail "dim beyond the shape"
grep -q "has 2 dimensions" err || fail "dim message: $(cat err)"
"$N" gen he_normal --shape 10,7 --shard-dim 0 --shard 3/3 -o x.npy 2>err; [ $? -eq 2 ] || fail "K = N accepted"
"$N" gen he_normal --shape 10,7 --rng torch --shard-dim 0 --shard 0/2 2>err; [ $? -eq 2 ] || fail "torch slice"
grep -q "philox" err || fail "torch slice message: $(cat err)"
"$N" model --torch "$R" --shard 0/2 -o m.safetensors 2>err; [ $? -eq 2 ] || fail "--shard without --shard-dim"

# model slices: the sliced file's metadata says which slice; biases (1-D) whole
"$N" model --torch "$R" --shard-dim 1 --shard 1/4 -o s.safetensors || fail "model slice"
"$N" inspect s.safetensors --json > s.json || fail "inspect slice"
grep -q '"0.weight"' s.json || fail "slice tensors: $(head -c 300 s.json)"
head -c 2000 s.safetensors | grep -q '"nninit.slice":"1:1/4"' || fail "slice metadata"
head -c 2000 s.safetensors | grep -q '"0.weight":{"dtype":"F32","shape":\[200,75\]' || fail "slice shape"
head -c 2000 s.safetensors | grep -q '"0.bias":{"dtype":"F32","shape":\[200\]' || fail "bias shape"
exit 0
