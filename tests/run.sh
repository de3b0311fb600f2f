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
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
