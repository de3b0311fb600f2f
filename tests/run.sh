#!/bin/sh
# Runs every cmocka test binary given as arguments, then the CLI contract
# tests (tests/cli/*.sh), and ends with one line "N passed, M failed".
# Exit status is non-zero if anything failed.
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$t: exited with status $rc"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
# NNINIT_CORE_ONLY=1 (make core-check): the test binaries only; the CLI and
# the Python package need the full library.
if [ -n "${NNINIT_CORE_ONLY:-}" ]; then
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
fi
for s in tests/cli/*.sh; do
    [ -f "$s" ] || continue
    if NNINIT="$NNINIT" sh "$s" >"$log" 2>&1; then
        echo "[       OK ] $s"
        passed=$((passed + 1))
    else
        cat "$log"
        echo "[  FAILED  ] $s"
        failed=$((failed + 1))
    fi
done
# The Python package (python/tests, pytest): each pytest test counts once,
# read from pytest's summary line; skipped tests (torch absent) say why (-rs).
PYTHON=${PYTHON:-/usr/bin/python3}
case "$LDFLAGS" in
*sanitize*)
    echo "[  SKIPPED ] python/tests: a sanitized libnninit cannot be loaded into $PYTHON" ;;
*)
    if "$PYTHON" -c "import pytest, numpy" 2>/dev/null; then
        b=${BUILD:-build}
        case "$b" in /*) ;; *) b=$(pwd)/$b ;; esac
        PYTHONPATH=python NNINIT_LIBRARY="$b/libnninit.so" NNINIT="$NNINIT" BUILD="${BUILD:-build}" \
            "$PYTHON" -m pytest -q -rs -p no:cacheprovider python/tests >"$log" 2>&1
        rc=$?
        cat "$log"
        summary=$(tail -n 1 "$log")
        p=$(echo "$summary" | grep -o '[0-9]* passed' | cut -d' ' -f1)
        p=${p:-0}
        f=0
        for n in $(echo "$summary" | grep -o '[0-9]* \(failed\|errors*\)' | cut -d' ' -f1); do
            f=$((f + n))
        done
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "python/tests: pytest exited with status $rc"
            f=1
        fi
        passed=$((passed + p))
        failed=$((failed + f))
    else
        echo "[  SKIPPED ] python/tests: $PYTHON lacks pytest or numpy (Debian: python3-pytest python3-numpy)"
    fi ;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
