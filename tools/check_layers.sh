#!/bin/sh
# The layering rule: a file in src/LAYER includes private headers of LAYER
# and of the layers it may depend on, and public headers of those layers
# only; lab/ and cli/ include public headers only. Prints every violation and
# exits 1 if there is one. Run by make check.
cd "$(dirname "$0")/.." || exit 2

# LAYER: the layers it may use (besides itself). Public header of a layer:
# core, rng, init -> nninit.h; others -> nninit_LAYER.h.
deps() {
    case $1 in
    core) echo "" ;;
    rng) echo "core" ;;
    init) echo "core rng" ;;
    io) echo "core" ;;
    data) echo "core rng" ;;
    nn) echo "core rng init data" ;;
    model) echo "core rng init io" ;;
    analysis) echo "core rng init io data nn model" ;;
    *) echo "?" ;;
    esac
}
public_of() {
    case $1 in
    nninit.h) echo core ;;
    nninit_*.h) n=${1#nninit_}; echo "${n%.h}" ;;
    *) echo "" ;;
    esac
}

bad=0
for dir in src/*/; do
    layer=$(basename "$dir")
    allowed="$layer $(deps "$layer")"
    if [ "$(deps "$layer")" = "?" ]; then
        echo "check_layers: $dir is not a known layer; add it to tools/check_layers.sh"
        bad=1
        continue
    fi
    # core, rng and init share the public header nninit.h
    case " $allowed " in *" core "*) allowed="$allowed core" ;; esac
    for f in "$dir"*.c "$dir"*.h; do
        [ -f "$f" ] || continue
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
            case $inc in
            */*) used=${inc%%/*} ;;
            nninit*.h) used=$(public_of "$inc") ;;
            *) used=$layer ;; # a header beside the file
            esac
            case " $allowed " in
            *" $used "*) ;;
            *) echo "check_layers: $f includes \"$inc\": layer $layer may use only: $allowed"; bad=1 ;;
            esac
        done
    done
done
for f in lab/*.c lab/*.h cli/*.c cli/*.h cli/mpi/*.c; do
    [ -f "$f" ] || continue
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        case $inc in
        nninit.h | nninit_*.h | lab.h | lab_internal.h | cli.h) ;; # the lab's own private header too
        *) echo "check_layers: $f includes \"$inc\": applications use the public headers only"; bad=1 ;;
        esac
    done
done
# Inside src/io the tensor-file code is ordered too: the format files never
# call the dispatcher, and the table never calls a format (no circle).
# ORDER: each group's functions may be called only by later groups.
io_order="atomic.c dtype.c npy.c|tfile.c|safetensors.c npz.c|tensors.c"
check_upward() { # $1: files below, $2: files above
    for above in $2; do
        for fn in $(sed -n 's/^[a-z][a-z_0-9 *]*[ *]\(nninit_[a-z_0-9]*\)(.*/\1/p' "src/io/$above"); do
            for below in $1; do
                if grep -q "\b$fn(" "src/io/$below"; then
                    echo "check_layers: src/io/$below calls $fn of src/io/$above, which is above it"
                    bad=1
                fi
            done
        done
    done
}
old_ifs=$IFS
IFS='|'
set -- $io_order
IFS=$old_ifs
below=""
for group in "$@"; do
    [ -n "$below" ] && check_upward "$below" "$group"
    below="$below $group"
done
[ $bad -eq 0 ] && echo "check_layers: every include follows the layers"
exit $bad
