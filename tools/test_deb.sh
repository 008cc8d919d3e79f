#!/usr/bin/env bash
# Installs the packages of `make deb` with apt into a scratch root of this machine's Debian release (made once by
# debootstrap, in DEB_DIR/root) and uses them as a user of another board would: mlrc-infer on the cat photo, the C
# example built with gcc and pkg-config against libmlrc-dev, and `import mlrc` from python3-mlrc. Needs root.
# Usage: tools/test_deb.sh DEB_DIR
set -euo pipefail
deb_dir=$(cd "$1" && pwd)
root_dir=$deb_dir/root
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "test_deb: needs root (debootstrap and chroot)"; exit 1; }
command -v debootstrap > /dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
if [ ! -x "$root_dir/usr/bin/apt-get" ]; then
  rm -rf "$root_dir"
  debootstrap --variant=minbase "$codename" "$root_dir" http://deb.debian.org/debian > "$deb_dir/debootstrap.log"
fi
cleanup() { umount "$root_dir/proc" 2> /dev/null || true; }
trap cleanup EXIT
mount -t proc proc "$root_dir/proc"
cp /etc/resolv.conf "$root_dir/etc/resolv.conf"
# A fresh scratch state each run: the packages removed, the test files copied in.
rm -rf "$root_dir/scratch" && mkdir -p "$root_dir/scratch"
cp "$deb_dir"/*.deb "$repo/examples/classify.c" "$repo/Tests/Fixtures/images/chelsea.jpg" "$root_dir/scratch/"
chroot "$root_dir" /bin/sh -eu -c '
  export DEBIAN_FRONTEND=noninteractive
  apt-get purge -y -qq libmlrc0 libmlrc-dev mlrc-tools python3-mlrc > /dev/null 2>&1 || true
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends gcc libc6-dev pkg-config python3 > /dev/null
  apt-get install -y -qq --no-install-recommends /scratch/*.deb > /dev/null
  dpkg -l libmlrc0 libmlrc-dev mlrc-tools python3-mlrc | tail -n 4
  cd /scratch
  mlrc-infer --version
  mlrc-infer chelsea.jpg | tee infer.txt
  sed -n 2p infer.txt | grep -Eq " (28[1-5]) " || { echo "FAIL: mlrc-infer from the package: not a cat"; exit 1; }
  gcc -std=c11 -Wall -Werror classify.c -o classify $(pkg-config --cflags --libs mlrc)
  ./classify /usr/share/mlrc/default.mlrc chelsea.jpg | sed -n 2p | grep -Eq " (28[1-5]) " ||
    { echo "FAIL: the C example against libmlrc-dev"; exit 1; }
  python3 -c "import mlrc; m = mlrc.Model(); p = m.classify(\"chelsea.jpg\")[0]; print(\"python3-mlrc:\", mlrc.version(), p); assert 281 <= p.index <= 285"
  apt-get purge -y -qq libmlrc0 libmlrc-dev mlrc-tools python3-mlrc > /dev/null
  [ ! -e /usr/lib/libmlrc.so.0 ] || { echo "FAIL: purge left the library"; exit 1; }
'
echo "test-deb: the packages install with apt in a scratch $codename root, work there, and purge cleanly"
