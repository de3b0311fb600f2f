#!/bin/sh
# 'make install' into a DESTDIR: man pages for nninit and every subcommand
# (the --help text, exit-status section included), nninit.pc and a CMake
# package that a CMake project finds and links (nninit::nninit).
set -u
N=${NNINIT:-build/nninit}
B=${BUILD:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
make -s install BUILD="$B" DESTDIR="$T/root" PREFIX=/usr/local >"$T/log" 2>&1 || fail "make install: $(tail -5 "$T/log")"
P=$T/root/usr/local
for c in nninit nninit-gen nninit-model nninit-inspect nninit-train nninit-theory nninit-probe nninit-bench \
         nninit-lab nninit-list nninit-clean; do
    m=$P/share/man/man1/$c.1
    [ -f "$m" ] || fail "no man page $c.1"
    grep -q '^\.TH ' "$m" && grep -q '^Exit status: 0 success' "$m" || fail "$c.1 lacks the --help text"
done
grep -q '^usage: nninit gen SPEC' "$P/share/man/man1/nninit-gen.1" || fail "nninit-gen.1 is not gen's help"
[ -f "$P/lib/pkgconfig/nninit.pc" ] || fail "no nninit.pc"
[ -f "$P/lib/cmake/nninit/nninitConfig.cmake" ] || fail "no nninitConfig.cmake"
command -v cmake >/dev/null 2>&1 || { echo "cmake not installed: CMake package not tried"; exit 0; }
mkdir "$T/app"
cat > "$T/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.13)
project(app C)
find_package(nninit 0.1 REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE nninit::nninit)
CM
cat > "$T/app/app.c" <<'C'
#include <stdio.h>
#include "nninit.h"
int main(void) { printf("%s\n", nninit_version()); return 0; }
C
cmake -S "$T/app" -B "$T/app/build" -DCMAKE_PREFIX_PATH="$P" >"$T/log" 2>&1 || fail "cmake configure: $(tail -5 "$T/log")"
cmake --build "$T/app/build" >"$T/log" 2>&1 || fail "cmake build: $(tail -5 "$T/log")"
LD_LIBRARY_PATH="$P/lib" "$T/app/build/app" | grep -q '^[0-9]' || fail "the CMake-built program did not run"
exit 0
