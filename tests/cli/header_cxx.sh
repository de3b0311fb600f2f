#!/bin/sh
# The public header compiles as strict C11 and as C++ (extern "C" guards).
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
printf '#include "nninit.h"\nint main(void) { return nninit_version()[0] == 0; }\n' >"$T/h.c"
${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -Iinclude "$T/h.c" || exit 1
${CXX:-c++} -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -Iinclude "$T/h.c" || exit 1
# (the usage examples at the top of every header: tests/cli/header_examples.sh)
