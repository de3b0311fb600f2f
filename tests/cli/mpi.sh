#!/bin/sh
# nninit-mpi: `mpirun -np N nninit-mpi model ...` writes the bytes `nninit
# model ...` writes, for N = 1..4 ranks and any thread count, in safetensors
# (single and sharded with its index) and npz; --rng torch runs on rank 0
# alone with the same bytes; a failing rank (an interposed pwrite failing on
# rank 1) leaves no file under the final name and no temporary, exit != 0,
# one nninit line; so does a disk too small for the reservation.
# OpenMPI comes from openmpi-bin and libopenmpi-dev.
set -u
N=${NNINIT:-build/nninit}
case $N in /*) ;; *) N=$(pwd)/$N ;; esac
M=$(dirname "$N")/nninit-mpi
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v mpirun >/dev/null 2>&1; then
    echo "skipped: no mpirun (Debian: openmpi-bin libopenmpi-dev)"
    exit 0
fi
[ -x "$M" ] || fail "mpirun is installed but $M was not built (make builds it when mpicc is found)"
# CI runs as root; two cores run four ranks
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
run() { np=$1; shift; mpirun -np "$np" "$M" model "$@"; }

# Chunks of 4096 elements (--memory-limit 64KiB), so tensors are split
# between ranks; an orthogonal kernel (generated whole) and an Embedding
# padding row among them.
R='Net(emb=Embedding(3001, 20, padding_idx=7), fc=Linear(150, 401), conv=Conv2d(3, 5, 3), rnn=GRU(6, 5), norm=LayerNorm(9))'
O='--override conv.weight=orthogonal --memory-limit 64KiB'
for fmt in safetensors shards npz; do
    case $fmt in
    safetensors) args="--format safetensors"; out=m.safetensors ;;
    shards) args="--max-shard-size 100KB"; out=m.safetensors ;;
    npz) args="--format npz --dtype bfloat16"; out=m.npz ;;
    esac
    mkdir one
    "$N" model --torch "$R" $O $args --seed 3 -o one/$out || fail "$fmt: one process"
    [ $fmt != shards ] || [ "$(ls one | wc -l)" -gt 2 ] || fail "expected shards: $(ls one)"
    for np in 1 2 3 4; do
        mkdir p
        run $np --torch "$R" $O $args --seed 3 --threads $((np % 2 + 1)) -o p/$out 2>err || fail "$fmt -np $np: $(cat err)"
        diff -r one p >/dev/null || fail "$fmt -np $np differs from the one-process write: $(ls -A one p)"
        rm -rf p
    done
    rm -rf one
done

# torch generator: rank 0 draws PyTorch's sequential stream alone; same bytes
"$N" model --torch "$R" --rng torch -o t1.safetensors || fail "torch one process"
run 3 --torch "$R" --rng torch -o t3.safetensors 2>err || fail "torch -np 3: $(cat err)"
cmp -s t1.safetensors t3.safetensors || fail "torch -np 3 differs"

# a failing rank: nothing under the final name, no temporary, non-zero exit, one nninit line
cat > shim.c <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
    const char *rank = getenv("OMPI_COMM_WORLD_RANK");
    if (rank && !strcmp(rank, "1") && off > 100000) {
        errno = ENOSPC;
        return -1;
    }
    return ((ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite"))(fd, p, n, off);
}
C
cc -shared -fPIC -o shim.so shim.c -ldl || fail "shim"
for out in f.safetensors f.npz; do
    mpirun -np 3 -x LD_PRELOAD="$T/shim.so" "$M" model --torch "$R" $O -o $out \
        --format "$([ $out = f.npz ] && echo npz || echo safetensors)" 2>err; rc=$?
    [ $rc -ne 0 ] || fail "$out: a failing rank exited 0"
    [ "$(grep -c '^nninit' err)" -eq 1 ] || fail "$out: expected one nninit line: $(cat err)"
    grep -q "^nninit: rank 1: .*No space left" err || fail "$out: the line names no rank: $(cat err)"
    [ -z "$(ls -A | grep '^\.\?f\.')" ] || fail "$out: files left: $(ls -A)"
done
# a disk too small: rank 0's posix_fallocate fails (ENOSPC from a shim) before
# any rank draws; one line, exit != 0, the existing file untouched
cat > falloc.c <<'C'
#include <errno.h>
#include <sys/types.h>
int posix_fallocate(int fd, off_t off, off_t len)
{
    (void)fd, (void)off, (void)len;
    return ENOSPC;
}
C
cc -shared -fPIC -o falloc.so falloc.c || fail "falloc shim"
"$N" model --torch "$R" -o k.safetensors || fail "keep"
cp k.safetensors k.orig
mpirun -np 2 -x LD_PRELOAD="$T/falloc.so" "$M" model --torch "$R" --seed 8 -o k.safetensors 2>err; rc=$?
[ $rc -ne 0 ] || fail "ENOSPC: exit 0"
[ "$(grep -c '^nninit' err)" -eq 1 ] || fail "ENOSPC: expected one nninit line: $(cat err)"
grep -q "^nninit: .*the disk has no room for its .*nothing was written" err || fail "ENOSPC: $(cat err)"
cmp -s k.safetensors k.orig || fail "ENOSPC: the existing file changed"
[ -z "$(ls -A | grep '\.tmp\.')" ] || fail "ENOSPC: temporaries left: $(ls -A)"
# an option error: every rank stops alike, one line
run 2 --torch "$R" --shard 5/2 -o x.safetensors 2>err; [ $? -ne 0 ] || fail "bad option accepted"
[ "$(grep -c '^nninit' err)" -eq 1 ] || fail "bad option: expected one line: $(cat err)"
exit 0
