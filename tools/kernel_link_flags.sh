#!/bin/sh
# The link flags of a program that calls the kernels directly (bench_kernels, bench_peak): libmlrc.so exports only
# the C API, so such a program links SwiftPM's own kernel objects from BIN (the code the library ships) and the
# OpenMP runtime the library was linked with (its RUNPATH).
#   tools/kernel_link_flags.sh BIN   ->   OBJECTS... -LDIR -lomp -Wl,-rpath,DIR -lm
set -eu
bin=$1
objects=$(find "$bin/CMLRCKernels.build" -name '*.o' | sort)
[ -n "$objects" ] || { echo "kernel_link_flags: no kernel objects under $bin/CMLRCKernels.build (build first)" >&2; exit 1; }
omp=$(readelf -d "$bin/libmlrc.so" | sed -n 's/.*RUNPATH.*\[\(.*\)\]/\1/p' | tr ':' '\n' | grep -v '^\$ORIGIN' | head -n 1)
echo $objects ${omp:+-L$omp -Wl,-rpath,$omp} -lomp -lm
