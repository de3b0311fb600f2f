#!/bin/sh
# The public header compiles as strict C11 and as C++ (extern "C" guards),
# and the usage example at its top builds and runs.
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
printf '#include "nninit.h"\nint main(void) { return nninit_version()[0] == 0; }\n' >"$T/h.c"
${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -Iinclude "$T/h.c" || exit 1
${CXX:-c++} -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -Iinclude "$T/h.c" || exit 1
# the header's usage example, extracted from its opening comment
sed -n '/^ \*     nninit_init init;/,/^ \*     nninit_rng_free(rng);/p' include/nninit.h | sed 's/^ \*     //' >"$T/body"
[ -s "$T/body" ] || { echo "usage example not found in the header"; exit 1; }
{
    printf '#include <stdio.h>\n#include <stdlib.h>\n#include "nninit.h"\nint main(void) {\n'
    cat "$T/body"
    printf 'double s = 0; for (int i = 0; i < 3*3*64*128; i++) s += (double)w[i] * w[i];\n'
    printf 'free(w); return (s / (3*3*64*128) > 0.9 * 2.0/576 && s / (3*3*64*128) < 1.1 * 2.0/576) ? 0 : 1; }\n'
} >"$T/ex.c"
${CC:-cc} -std=c11 -Iinclude ${LDFLAGS:-} -o "$T/ex" "$T/ex.c" "${BUILD:-build}/libnninit.a" \
    $(pkg-config --libs openblas lapacke zlib jansson) -lm -pthread || exit 1
"$T/ex"
