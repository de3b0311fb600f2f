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
    analysis) echo "core rng init io data nn" ;;
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
for f in lab/*.c lab/*.h cli/*.c cli/*.h; do
    [ -f "$f" ] || continue
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        case $inc in
        nninit.h | nninit_*.h | lab.h | cli.h) ;;
        *) echo "check_layers: $f includes \"$inc\": applications use the public headers only"; bad=1 ;;
        esac
    done
done
[ $bad -eq 0 ] && echo "check_layers: every include follows the layers"
exit $bad
