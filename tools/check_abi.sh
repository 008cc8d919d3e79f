#!/usr/bin/env bash
# The installed library's ABI: SONAME libmlrc.so.MAJOR, and exactly the functions include/mlrc.h declares exported
# (Sources/MLRCCAPI/exports.map lists the same). Usage: tools/check_abi.sh PREFIX
set -euo pipefail
prefix=$1
root=$(cd "$(dirname "$0")/.." && pwd)
major=$(sed -n 's/^#define MLRC_VERSION_MAJOR //p' "$root/include/mlrc.h")
version=$(sed -n 's/^#define MLRC_VERSION "\(.*\)"/\1/p' "$root/include/mlrc.h")
lib="$prefix/lib/libmlrc.so.$version"
fail=0
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
echo "SONAME: $soname"
[ "$soname" = "libmlrc.so.$major" ] || { echo "FAIL: SONAME is '$soname', not libmlrc.so.$major"; fail=1; }
[ "$(readlink "$prefix/lib/libmlrc.so.$major")" = "libmlrc.so.$version" ] || { echo "FAIL: libmlrc.so.$major link"; fail=1; }
[ "$(readlink "$prefix/lib/libmlrc.so")" = "libmlrc.so.$major" ] || { echo "FAIL: libmlrc.so link"; fail=1; }
header=$(grep -oE '\bmlrc_[a-z_0-9]+\(' "$root/include/mlrc.h" | tr -d '(' | sort -u)
map=$(grep -oE '^ +mlrc_[a-z_0-9]+;' "$root/Sources/MLRCCAPI/exports.map" | tr -d ' ;' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
[ "$header" = "$map" ] || { echo "FAIL: exports.map and mlrc.h differ:"; diff <(echo "$header") <(echo "$map") || true; fail=1; }
[ "$header" = "$exported" ] || { echo "FAIL: exported symbols and mlrc.h differ:"; diff <(echo "$header") <(echo "$exported") || true; fail=1; }
echo "exported: $(echo "$exported" | wc -l) symbols, the functions of mlrc.h"
exit $fail
