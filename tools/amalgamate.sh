#!/bin/sh
# Writes the single-file distribution of the core library (as SQLite's
# amalgamation and stb): OUT/nninit.h (include/nninit.h as is) and
# OUT/nninit.c (every .c of src/core, src/rng, src/init with the private
# headers they include, inlined). POSIX sh and awk only, so it runs where
# only the C toolchain is installed. Usage: tools/amalgamate.sh OUT
#
# What makes the concatenation compile as one translation unit:
#  - a private header with an include guard is emitted once, before the
#    first file that includes it; one without (src/rng/simd_kernels.h, which
#    simd_avx2.c and simd_avx512.c include with their own vector layer) is
#    inlined at each #include and belongs to that file;
#  - names a file defines at top level (static functions and variables,
#    typedefs, struct/enum tags, enumerators) that another file defines too
#    are renamed per file (#define name name__file ... #undef name);
#  - macros a file defines are #undef'd after it (simd_avx2.c's and
#    simd_avx512.c's target-attribute macro T, for one);
#  - the build's -D_POSIX_C_SOURCE=200809L, parallel.c's _DEFAULT_SOURCE
#    and -ffp-contract=off are set by the file itself.
set -eu
out=${1:?usage: tools/amalgamate.sh OUTDIR}
cd "$(dirname "$0")/.."
mkdir -p "$out"
files=$(ls src/core/*.c src/rng/*.c src/init/*.c | LC_ALL=C sort)
version=$(sed -n 's/^VERSION *= *//p' Makefile)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
tmp="$out/nninit.c.tmp"

awk -v version="$version" -v commit="$commit" '
function is_guarded(path,    line, ok) {
    if (path in guarded_cache) return guarded_cache[path]
    ok = 0
    while ((getline line < path) > 0) {
        if (line ~ /^[ \t]*$/ || line ~ /^[ \t]*(\/\*|\*)/) continue
        ok = line ~ /^#ifndef [A-Z0-9_]+_H$/
        break
    }
    close(path)
    guarded_cache[path] = ok
    return ok
}
function header_path(name) {
    if (name == "nninit.h") return "PUBLIC"
    if ((getline dummy < ("src/" name)) >= 0) { close("src/" name); return "src/" name }
    return ""
}
# Reads a file into the current unit, expanding project includes.
function read_unit(path, unit,    line, m, hp) {
    while ((getline line < path) > 0) {
        if (match(line, /^#include "[^"]+"/)) {
            m = substr(line, 11, RLENGTH - 11)
            hp = header_path(m)
            if (hp == "PUBLIC") continue
            if (hp == "") { print "amalgamate: " path ": cannot find " m > "/dev/stderr"; exit 2 }
            if (is_guarded(hp)) { need_header(hp, unit); continue }
            body[unit] = body[unit] "/* ---- " hp " (inlined in " path ") ---- */\n"
            read_unit(hp, unit)
            continue
        }
        if (line ~ /^#define _(DEFAULT|POSIX_C|GNU|XOPEN)_SOURCE/) continue
        collect(line, unit)
        body[unit] = body[unit] line "\n"
    }
    close(path)
}
# A guarded header, emitted once before the unit that first needs it
# (with the guarded headers it includes, first).
function need_header(hp, unit,    line, m, h2, text) {
    if (hp in header_done) return
    header_done[hp] = 1
    text = ""
    while ((getline line < hp) > 0) {
        if (match(line, /^#include "[^"]+"/)) {
            m = substr(line, 11, RLENGTH - 11)
            h2 = header_path(m)
            if (h2 == "PUBLIC") continue
            need_header(h2, unit)
            continue
        }
        text = text line "\n"
    }
    close(hp)
    pre[unit] = pre[unit] "/* ---- " hp " ---- */\n" text
}
function add_name(name, unit) {
    if (name == "" || (name in keyword)) return
    if (!((unit SUBSEP name) in has)) {
        has[unit, name] = 1
        count[name]++
        names[unit] = names[unit] " " name
    }
}
# Top-level names a line defines, and macros.
function collect(line, unit,    s, n, i, part) {
    if (match(line, /^#[ \t]*define[ \t]+[A-Za-z_][A-Za-z0-9_]*/)) {
        s = substr(line, RSTART, RLENGTH); sub(/^#[ \t]*define[ \t]+/, "", s)
        if (!((unit SUBSEP s) in mac)) { mac[unit, s] = 1; macros[unit] = macros[unit] " " s }
        return
    }
    if (in_enum) {
        if (line ~ /^}/) { in_enum = 0; if (match(line, /^}[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*;/)) { s = substr(line, 2, RLENGTH - 2); gsub(/[ \t;]/, "", s); add_name(s, unit) }; return }
        s = line; sub(/\/\*.*$/, "", s); sub(/\/\/.*$/, "", s)
        n = split(s, part, ",")
        for (i = 1; i <= n; i++) { s = part[i]; sub(/=.*/, "", s); gsub(/[ \t]/, "", s); if (s ~ /^[A-Za-z_][A-Za-z0-9_]*$/) add_name(s, unit) }
        return
    }
    if (line !~ /^[A-Za-z_}]/) return
    if (line ~ /^(typedef[ \t]+)?enum([ \t]+[A-Za-z_][A-Za-z0-9_]*)?[ \t]*\{/) {
        s = line; sub(/^(typedef[ \t]+)?enum[ \t]*/, "", s); sub(/[ \t]*\{.*/, "", s); add_name(s, unit)
        s = line; sub(/^[^{]*\{/, "", s)
        if (s ~ /\}/) {  # one-line enum { A = 1, B };
            sub(/\}.*/, "", s); n = split(s, part, ",")
            for (i = 1; i <= n; i++) { s = part[i]; sub(/=.*/, "", s); gsub(/[ \t]/, "", s); add_name(s, unit) }
        } else in_enum = 1
        return
    }
    if (line ~ /^(typedef[ \t]+)?(struct|union)[ \t]+[A-Za-z_][A-Za-z0-9_]*/) {
        s = line; sub(/^(typedef[ \t]+)?(struct|union)[ \t]+/, "", s); sub(/[^A-Za-z0-9_].*/, "", s); add_name(s, unit)
        if (line ~ /^typedef/ && line ~ /;[ \t]*$/) { s = line; sub(/[ \t]*;[ \t]*$/, "", s); sub(/.*[^A-Za-z0-9_]/, "", s); add_name(s, unit) }
        return
    }
    if (line ~ /^}[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*;/) { s = line; sub(/^}[ \t]*/, "", s); sub(/[^A-Za-z0-9_].*/, "", s); add_name(s, unit); return }
    if (line ~ /^typedef/) { s = line; sub(/[ \t]*;.*$/, "", s); sub(/\).*$/, "", s); sub(/.*[^A-Za-z0-9_]/, "", s); add_name(s, unit); return }
    if (line !~ /(^|[ \t])static[ \t]/ && line !~ /^(NO)?INL[ \t]/) return
    s = line; sub(/\/\*.*$/, "", s)
    if (index(s, "(")) {
        s = substr(s, 1, index(s, "(") - 1)
        if (s ~ /\*[ \t]*$/) return  # a function-pointer variable: "static int (*f)(void)" is not renamed
    } else sub(/[ \t]*(\[|=|;).*$/, "", s)
    sub(/.*[^A-Za-z0-9_]/, "", s)
    add_name(s, unit)
}
BEGIN {
    split("void char short int long float double signed unsigned const static inline volatile restrict extern " \
          "struct union enum typedef return if else for while do switch case default break continue goto sizeof " \
          "T INL NOINL bool size_t int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t", kw, " ")
    for (i in kw) keyword[kw[i]] = 1
}
{
    unit = NR; path[unit] = $0; n_units = NR
    read_unit($0, unit)
}
END {
    print "/*"
    print " * nninit " version " (" commit "): the core library in one file, generated by"
    print " * tools/amalgamate.sh from src/core, src/rng and src/init; do not edit."
    print " * Build with nninit.h beside it:"
    print " *     cc -std=c11 -O2 -c nninit.c        (C11; link with -lm -pthread)"
    print " * Needs only libc, libm and pthreads. Orthogonal uses the built-in QR; JSON"
    print " * specs need jansson: add -DNNINIT_HAVE_JANSSON and -ljansson, else a JSON"
    print " * spec fails with NNINIT_EUNSUPPORTED. The bits of every initializer are"
    print " * those of the library built with make, because this file turns off"
    print " * floating-point contraction itself (a fused multiply-add would change them);"
    print " * with a compiler that honours neither pragma below, add -ffp-contract=off."
    print " */"
    print "#ifndef _POSIX_C_SOURCE"
    print "#define _POSIX_C_SOURCE 200809L"
    print "#endif"
    print "#ifndef _DEFAULT_SOURCE"
    print "#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE (src/core/parallel.c) */"
    print "#endif"
    print "#if defined(__clang__)"
    print "#pragma STDC FP_CONTRACT OFF"
    print "#elif defined(__GNUC__)"
    print "#pragma GCC optimize(\"fp-contract=off\")"
    print "#endif"
    print "#define NNINIT_AMALGAMATION 1"
    print "#include \"nninit.h\""
    for (u = 1; u <= n_units; u++) {
        printf "%s", pre[u]
        print "/* ==== " path[u] " ==== */"
        tag = path[u]; sub(/^src\//, "", tag); sub(/\.c$/, "", tag); gsub(/[^A-Za-z0-9]/, "_", tag)
        k = split(names[u], nm, " "); ren = ""
        for (i = 1; i <= k; i++) if (count[nm[i]] > 1) { print "#define " nm[i] " " nm[i] "__" tag; ren = ren " " nm[i] }
        printf "%s", body[u]
        k = split(ren, nm, " ")
        for (i = 1; i <= k; i++) print "#undef " nm[i]
        k = split(macros[u], nm, " ")
        for (i = 1; i <= k; i++) print "#undef " nm[i]
    }
}
' <<EOF > "$tmp"
$files
EOF
mv "$tmp" "$out/nninit.c"
cp include/nninit.h "$out/nninit.h"
echo "amalgamate: $out/nninit.c ($(wc -l < "$out/nninit.c") lines from $(echo "$files" | wc -l) files), $out/nninit.h"
