#!/bin/sh
# Each public header opens with a usage example: a whole program between
# the line "Example, a whole program" and "Prints:", and its output after
# "Prints:". Every example is extracted, compiled as strict C11 (with the
# sanitizers when the compiler has them: leaks and bad accesses fail),
# run, and its output compared with the header's.
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
LIBS="${BUILD:-build}/libnninit.a $(pkg-config --libs openblas lapacke zlib jansson) $(pkg-config --libs hdf5 2>/dev/null) -lm -pthread"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
printf 'int main(void) { return 0; }\n' >"$T/t.c"
${CC:-cc} $SAN -o "$T/t" "$T/t.c" 2>/dev/null && "$T/t" 2>/dev/null || SAN=""
fail=0
for h in include/*.h; do
    n=$(basename "$h" .h)
    # mode 1: the program, mode 2: the expected output; stop at prose
    awk -v prog="$T/$n.c" -v want="$T/$n.want" '
        /^ \* Example, a whole program/ { mode = 1; skip = 1; next }
        mode && /^ \* Prints:$/ { mode = 2; next }
        mode && /^ \*     / { print substr($0, 8) > (mode == 1 ? prog : want); next }
        mode && /^ \*$/ { if (mode == 1) print "" > prog; next }
        mode && skip && /^ \* and runs it/ { next }
        mode { mode = 0 }
    ' "$h"
    if [ ! -s "$T/$n.c" ] || [ ! -s "$T/$n.want" ]; then
        echo "header_examples: $h has no example (or no Prints: block)"
        fail=1
        continue
    fi
    if ! ${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L $SAN -Iinclude \
        ${LDFLAGS:-} -o "$T/$n" "$T/$n.c" $LIBS; then
        echo "header_examples: the example of $h does not compile"
        fail=1
        continue
    fi
    (cd "$T" && "./$n") >"$T/$n.got" || { echo "header_examples: the example of $h exits $?"; fail=1; continue; }
    if ! cmp -s "$T/$n.want" "$T/$n.got"; then
        echo "header_examples: the example of $h prints something else than its header says:"
        diff "$T/$n.want" "$T/$n.got"
        fail=1
    fi
done
exit $fail
