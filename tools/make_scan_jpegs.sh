#!/bin/sh
# Progressive JPEGs at the decoder's scan limit (MLRC_JPEG_MAX_SCANS = 64) and past it, made losslessly from the
# grey fixture with jpegtran's scan scripts (Debian: libjpeg-turbo-progs). Every scan is valid, so only the limit
# can refuse the second one.
#   sh tools/make_scan_jpegs.sh   ->  Tests/Fixtures/fuzz/jpeg/scans64.jpg, Tests/Fixtures/fuzz/jpeg/scans66.jpg
set -e
dir=Tests/Fixtures/fuzz/jpeg
tmp=$(mktemp -d)
# 64 scans: the DC, then each AC coefficient in its own scan.
{ echo "0: 0 0 0 0;"; k=1; while [ $k -le 63 ]; do echo "0: $k $k 0 0;"; k=$((k + 1)); done; } > "$tmp/64"
# 66 scans: the same with successive approximation (first passes at Al 1), then the DC and AC refinements.
{ echo "0: 0 0 0 1;"; k=1; while [ $k -le 63 ]; do echo "0: $k $k 0 1;"; k=$((k + 1)); done
  echo "0: 0 0 1 0;"; echo "0: 1 63 1 0;"; } > "$tmp/66"
jpegtran -copy none -scans "$tmp/64" -outfile "$dir/scans64.jpg" "$dir/gray.jpg"
jpegtran -copy none -scans "$tmp/66" -outfile "$dir/scans66.jpg" "$dir/gray.jpg"
rm -r "$tmp"
