#!/usr/bin/env bash
# Debian packages of this build for the machine's architecture, so that one board builds and the others install
# with apt: libmlrc0 (the library), libmlrc-dev (header, pkg-config, CMake), mlrc-tools (mlrc-infer, quantize,
# the default model, the calibration photos), python3-mlrc (the Python package).
# Usage: tools/make_deb.sh STAGE OUTDIR   (STAGE: a `make install DESTDIR=STAGE PREFIX=/usr` tree)
set -euo pipefail
stage=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^#define MLRC_VERSION "\(.*\)"/\1/p' "$root/include/mlrc.h")
major=$(sed -n 's/^#define MLRC_VERSION_MAJOR //p' "$root/include/mlrc.h")
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# The packages that provide what an ELF file links (NEEDED, found through its RUNPATH and the loader's paths).
depends_of() {
  local deps=()
  for f in "$@"; do
    local runpath
    runpath=$(readelf -d "$f" | sed -n 's/.*R\(UN\)\?PATH.*\[\(.*\)\]/\2/p' | tr ':' ' ')
    for lib in $(readelf -d "$f" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
      [ "$lib" = "libmlrc.so.$major" ] && continue
      local path=""
      for dir in $runpath; do [ -e "$dir/$lib" ] && { path="$dir/$lib"; break; }; done
      [ -n "$path" ] || path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
      [ -n "$path" ] || { echo "make_deb: $f needs $lib, which is not installed" >&2; exit 1; }
      local pkg
      pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1) ||
        pkg=$(dpkg -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1) || true
      [ -n "$pkg" ] || pkg=$(dpkg -S "$path" | head -n 1 | cut -d: -f1)
      deps+=("$pkg")
    done
  done
  printf '%s\n' "${deps[@]}" | sort -u | paste -sd, | sed 's/,/, /g'
}

# package NAME DESCRIPTION DEPENDS PATH... (paths relative to the stage, copied with their links)
package() {
  local name=$1 description=$2 depends=$3
  shift 3
  local dir="$work/$name"
  mkdir -p "$dir/DEBIAN"
  for p in "$@"; do
    mkdir -p "$dir/$(dirname "$p")"
    cp -a "$stage/$p" "$dir/$p"
  done
  local size
  size=$(du -sk --exclude=DEBIAN "$dir" | cut -f1)
  cat > "$dir/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: mlrc maintainers <mlrc@localhost>
Installed-Size: $size
Depends: $depends
Section: libs
Priority: optional
Description: $description
 mlrc runs int8 and fp32 image-classification CNNs (converted from PyTorch
 checkpoints or ONNX files) on small Linux boards, from C or Python.
CONTROL
  if [ "$name" = "libmlrc$major" ]; then printf 'activate-noawait ldconfig\n' > "$dir/DEBIAN/triggers"; fi
  dpkg-deb --root-owner-group --build "$dir" "$out/${name}_${version}_${arch}.deb" > /dev/null
  echo "built $out/${name}_${version}_${arch}.deb (Depends: $depends)"
}

lib="usr/lib/libmlrc.so.$version"
package "libmlrc$major" "int8 inference runtime for image-classification CNNs (library)" \
  "$(depends_of "$stage/$lib")" "$lib" "usr/lib/libmlrc.so.$major"
package libmlrc-dev "int8 inference runtime for image-classification CNNs (development files)" \
  "libmlrc$major (= $version)" usr/include/mlrc.h usr/lib/libmlrc.so usr/lib/pkgconfig/mlrc.pc usr/lib/cmake/mlrc
package mlrc-tools "int8 inference runtime for image-classification CNNs (mlrc-infer, quantize, default model)" \
  "$(depends_of "$stage/usr/bin/mlrc-infer" "$stage/usr/bin/quantize")" usr/bin/mlrc-infer usr/bin/quantize usr/share/mlrc
mkdir -p "$stage/usr/lib/python3/dist-packages"
cp -r "$root/python/mlrc" "$stage/usr/lib/python3/dist-packages/"
find "$stage/usr/lib/python3/dist-packages" -name __pycache__ -prune -exec rm -rf {} +
package python3-mlrc "int8 inference runtime for image-classification CNNs (Python package)" \
  "python3, libmlrc$major (= $version)" usr/lib/python3/dist-packages/mlrc
