#!/bin/bash
# Interleaved latency of two builds of libmlrc.so on the same model files: for each round, model and thread count,
# tools/bench_mlrc.c against each library, who runs first alternating by round; prints per (model, threads) the
# lowest per-round median and the lowest minimum of each, and new / old.
#   ROUNDS=10 RUNS=30 tools/ab_latency.sh OLD_LIB_DIR NEW_LIB_DIR MODEL.mlrc...
set -e
old=$1 new=$2; shift 2
rounds=${ROUNDS:-10} runs=${RUNS:-30}
root=$(cd "$(dirname "$0")/.." && pwd) tmp=$(mktemp -d)
for lib in old new; do
  dir=${!lib}
  gcc -O2 -I"$root/include" "$root/tools/bench_mlrc.c" -o "$tmp/bench_$lib" -L"$dir" -lmlrc -Wl,-rpath,"$(cd "$dir" && pwd)"
done
for r in $(seq "$rounds"); do
  for model in "$@"; do
    for t in 1 2; do
      order="old new"; [ $((r % 2)) = 0 ] && order="new old"
      for lib in $order; do echo "$model $t $lib $("$tmp/bench_$lib" "$model" $t "$runs" | tail -1)"; done
    done
  done
done > "$tmp/raw"
python3 - "$tmp/raw" <<'PY'
import collections, json, sys
med, low = collections.defaultdict(lambda: 1e9), collections.defaultdict(lambda: 1e9)
for line in open(sys.argv[1]):
    model, t, lib, js = line.split(" ", 3)
    j = json.loads(js)
    med[(model, t, lib)] = min(med[(model, t, lib)], j["median_ms"])
    low[(model, t, lib)] = min(low[(model, t, lib)], j["min_ms"])
print("| model | threads | median old / new ms | new / old | min old / new ms | new / old |")
print("|---|---|---|---|---|---|")
for (model, t, lib) in sorted(med):
    if lib != "old": continue
    o, n, lo, ln = med[(model, t, "old")], med[(model, t, "new")], low[(model, t, "old")], low[(model, t, "new")]
    print(f"| {model} | {t} | {o:.2f} / {n:.2f} | {n / o:.2f} | {lo:.2f} / {ln:.2f} | {ln / lo:.2f} |")
PY
rm -r "$tmp"
