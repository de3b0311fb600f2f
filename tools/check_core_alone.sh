#!/bin/sh
# Checks that a core build (make core, or the single file) needs no optional
# library: no object refers to cblas_/LAPACKE_/json_/deflate/inflate symbols
# (nm -u), and no dependency file names an optional header. Usage:
#   tools/check_core_alone.sh DIR   (searches DIR for *.a, *.o and *.d)
# Prints the offenders and exits 1 if there is one.
dir=${1:?usage: check_core_alone.sh DIR}
bad=0
objs=$(find "$dir" -name '*.a' -o -name '*.o' | sort)
[ -n "$objs" ] || { echo "check_core_alone: no objects under $dir"; exit 1; }
syms=$(nm -u $objs 2>/dev/null | awk '{print $NF}' | grep -E '^(cblas_|LAPACKE_|json_|deflate|inflate)' | sort -u)
if [ -n "$syms" ]; then
    echo "check_core_alone: undefined optional-library symbols:"; echo "$syms"; bad=1
fi
hdrs=$(find "$dir" -name '*.d' -exec grep -lE '(cblas|lapacke|jansson|zlib)\.h' {} + 2>/dev/null)
if [ -n "$hdrs" ]; then
    echo "check_core_alone: built with optional headers:"; echo "$hdrs"; bad=1
fi
[ $bad -eq 0 ] && echo "check_core_alone: $(echo "$objs" | wc -l) objects in $dir need only libc, libm and pthreads"
exit $bad
