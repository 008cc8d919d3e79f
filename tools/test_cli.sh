#!/usr/bin/env bash
# The installed tools as a user runs them: mlrc-infer on files, directories and stdin, with --jobs, --json and its
# error lines, --version and --print-preprocessing; quantize refusing an unwritable output before it calibrates,
# and warning when a non-ImageNet model is calibrated on the bundled photos.
# Usage: tools/test_cli.sh PREFIX FIXTURES WORKDIR
set -uo pipefail
prefix=$1 fixtures=$2 work=$3
infer=$prefix/bin/mlrc-infer quantize=$prefix/bin/quantize
passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}
rm -rf "$work" && mkdir -p "$work/photos/b/c"
for i in $(seq 1 12); do cp "$fixtures/images/chelsea.jpg" "$work/photos/b/c/cat$i.JPG"; done
for i in $(seq 1 12); do cp "$fixtures/images/coffee.jpg" "$work/photos/b/cup$i.jpeg"; done
printf 'not a jpeg' > "$work/photos/b/broken.jpg"
printf 'ignored' > "$work/photos/notes.txt"
header_version=$(sed -n 's/^#define MLRC_VERSION "\(.*\)"/\1/p' "$(dirname "$0")/../include/mlrc.h")

check "--version prints the header's version" test "$("$infer" --version)" = "$header_version"
"$infer" --json --jobs 1 "$work/photos" > "$work/j1.txt" 2> "$work/j1.err"
status1=$?
"$infer" --json --jobs 3 --throughput "$work/photos" > "$work/j3.txt" 2> "$work/j3.err"
status3=$?
check "a failed image makes the exit code 1" test "$status1" = 1 -a "$status3" = 1
check "25 JSON lines for the 25 JPEGs of the tree" test "$(wc -l < "$work/j1.txt")" = 25
check "--jobs 3 gives the same lines in the same order" cmp -s "$work/j1.txt" "$work/j3.txt"
check "the broken file has an error line" grep -q '"image":"[^"]*broken.jpg","error":"' "$work/j1.txt"
check "the .txt file is not taken" bash -c "! grep -q notes.txt '$work/j1.txt'"
check "cats are cats" bash -c "grep 'cat[0-9]*.JPG' '$work/j1.txt' | grep -c '\"top\":\[{\"index\":28[1-5],' | grep -qx 12"
check "the throughput line" grep -Eq '25 images in .* images/s \(3 jobs' "$work/j3.err"
mkdir -p "$work/empty"
"$infer" "$work/empty" > /dev/null 2> "$work/empty.err"
status=$?
check "a directory without JPEGs is an error" bash -c "[ $status = 1 ] && grep -q 'no .jpg or .jpeg files' '$work/empty.err'"
"$infer" - < "$fixtures/images/coffee.jpg" > "$work/stdin.txt"
check "- reads a JPEG from stdin" bash -c "sed -n 2p '$work/stdin.txt' | grep -Eq ' (967|968) '"
"$infer" --print-preprocessing > "$work/pre.json"
check "--print-preprocessing is JSON" python3 -c "
import json, sys; d = json.load(open('$work/pre.json')); p = d['preprocessing']
assert d['classes'] == 1000 and d['input'] == [3, 224, 224] and p['interpolation'] == 'bilinear' and p['crop'], d"

"$quantize" "$fixtures/checkpoints/hsnet_small_zip.pth" -o "$work/missing/x.mlrc" > "$work/q1.txt" 2>&1
status=$?
check "an unwritable output fails" test "$status" != 0
check "... naming the path, before calibrating" bash -c "grep -q 'missing/x.mlrc' '$work/q1.txt' && ! grep -q calibrat '$work/q1.txt'"
"$quantize" "$fixtures/checkpoints/mlrc_k7_safetensors_bf16.safetensors" --calib-limit 4 -o "$work/k7.mlrc" \
  > "$work/q2.txt" 2>&1
check "a 10-class model calibrated on the bundled photos gets the warning" \
  grep -q "warning: this model has 10 classes.*--calib DIR" "$work/q2.txt"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
