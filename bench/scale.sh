#!/bin/sh
# Streaming model writes against the disk: a 4 GiB float32 model (GPT layout
# gpt:layers=5,d_model=4096,heads=32,vocab=16384,ctx=2048: 1.08 G parameters,
# 4.03 GiB) written by
# nninit model (Philox, and --rng torch), by nninit-mpi on 1 and 2 ranks, and
# the disk's sequential write bandwidth with fsync (dd conv=fsync, same size)
# measured in the same run, interleaved, REPS times; medians, peak RSS
# (/usr/bin/time), the 1-minute load average after each run (its median per
# row). Outputs are deleted.
#   sh bench/scale.sh [DIR] [REPS]      (DIR on the disk to measure; default .)
#   BUILD=other/build SPEC=gpt:... sh bench/scale.sh  (other binaries, another model)
set -u
B=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
DIR=${1:-.}
REPS=${2:-3}
SPEC=${SPEC:-'gpt:layers=5,d_model=4096,heads=32,vocab=16384,ctx=2048'}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
OUT=$DIR/nninit_bench_scale.safetensors
bytes=$("$B/nninit" model --spec "$SPEC" --list | awk -F'\t' '{n = 1; split($2, d, /[][(), ]+/); for (i in d) if (d[i] != "") n *= d[i]; s += n} END {printf "%.0f", s * 4}')
echo "model: $SPEC, $bytes bytes of float32; disk: $(df -h "$DIR" | tail -1 | awk '{print $1, $4 " free"}'); cpus: $(nproc)"
echo "load before: $(uptime | sed 's/.*load average: //')"
tmp=$(mktemp)
run() { # name, command...: seconds and peak RSS (KiB) appended to $tmp
    name=$1; shift
    rm -f "$OUT"; sync
    /usr/bin/time -f "%e %M" -o "$tmp.t" "$@" >/dev/null 2>"$tmp.e" || { echo "$name failed: $(tail -2 "$tmp.e")"; return; }
    echo "$name $(tail -1 "$tmp.t") $(cut -d' ' -f1 /proc/loadavg)" >> "$tmp"
    rm -f "$OUT"
}
for r in $(seq "$REPS"); do
    run dd dd if=/dev/zero of="$OUT" bs=16M count=$((bytes / 16777216)) conv=fsync
    run philox "$B/nninit" model --spec "$SPEC" -o "$OUT"
    run mpi1 mpirun -np 1 "$B/nninit-mpi" model --spec "$SPEC" -o "$OUT"
    run mpi2 mpirun -np 2 "$B/nninit-mpi" model --spec "$SPEC" -o "$OUT" --threads 1
    run torch "$B/nninit" model --spec "$SPEC" --rng torch -o "$OUT"
done
echo "load after: $(uptime | sed 's/.*load average: //')"
printf "%-8s %9s %8s %7s %12s %6s\n" run "median s" "GB/s" "x dd" "peak RSS MiB" load
for name in dd philox mpi1 mpi2 torch; do
    n=$(grep -c "^$name " "$tmp")
    [ "$n" -gt 0 ] || continue
    med=$(grep "^$name " "$tmp" | awk '{print $2}' | sort -n | awk -v n="$n" '{t[NR] = $1} END {
        print n % 2 ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2}')
    rss=$(grep "^$name " "$tmp" | awk '{print $3}' | sort -n | tail -1)
    load=$(grep "^$name " "$tmp" | awk '{print $4}' | sort -n | awk -v n="$n" '{t[NR] = $1} END {
        print n % 2 ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2}')
    [ "$name" = dd ] && dd_s=$med
    awk -v n="$name" -v t="$med" -v b="$bytes" -v r="$rss" -v d="${dd_s:-0}" -v l="$load" \
        'BEGIN {printf "%-8s %9.2f %8.3f %7.2f %12.0f %6.1f\n", n, t, b / t / 1e9, (d > 0 ? d / t : 0), r / 1024, l}'
done
echo "(peak RSS: the largest process, mpirun and its ranks included; GB/s: the whole write, fsync included)"
rm -f "$tmp" "$tmp.t" "$tmp.e"
