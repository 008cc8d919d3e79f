"""mlrc latency / load time / peak memory per family, at 1 and 2 threads (make bench).

Models: the default EfficientNet-Lite0 (.build-model/default.mlrc) and, when PyTorch is importable, full-size
MLRC-ConvNeXt-atto, ConvNeXt-atto and HSNet with random weights written by tools/make_fixtures.py --full
(cached under --models). Each measurement runs tools/bench_mlrc.c in its own process, so peak RSS is one
model's. Rounds alternate between models (A B A B) and the best round's median is kept, since this machine
is shared and noisy. Peer runtimes (ONNX Runtime, OpenVINO, ncnn) are the performance issue's work."""
import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def build_bench(bin_dir, out):
    exe = out / "bench_mlrc"
    subprocess.run(["gcc", "-O2", "-I", str(ROOT / "include"), str(ROOT / "tools" / "bench_mlrc.c"), "-o", str(exe),
                    "-L", str(bin_dir), "-lmlrc", "-Wl,-rpath," + str(bin_dir.resolve())], check=True)
    return exe


def models(out, bin_dir):
    found = {"efficientnet_lite0": ROOT / ".build-model" / "default.mlrc"}
    full = out / "full"
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    if have_torch and not (full / "manifest.json").exists():
        subprocess.run([sys.executable, str(ROOT / "tools" / "make_fixtures.py"), "--full", str(full)], check=True)
    if (full / "manifest.json").exists():
        for m in json.loads((full / "manifest.json").read_text()):
            dst = out / (m["name"] + ".mlrc")
            if not dst.exists():
                subprocess.run([str(bin_dir / "quantize"), str(full / m["checkpoint"]), "--precision", "fp32", "-o",
                                str(dst)], check=True, stdout=subprocess.DEVNULL)
            found[m["name"]] = dst
    else:
        print("(PyTorch not importable: only EfficientNet-Lite0 is measured; pip install torch for the others)")
    return {k: v for k, v in found.items() if v.exists()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / ".build" / "release"))
    ap.add_argument("--models", default=str(ROOT / ".build-test" / "bench"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    out = pathlib.Path(a.models)
    out.mkdir(parents=True, exist_ok=True)
    exe = build_bench(pathlib.Path(a.bin), out)
    nets = models(out, pathlib.Path(a.bin))
    best = {}
    for _ in range(a.rounds):
        for name, path in nets.items():
            for threads in (1, 2):
                r = json.loads(subprocess.run([str(exe), str(path), str(threads), str(a.runs)], check=True,
                                              capture_output=True, text=True).stdout)
                key = (name, threads)
                if key not in best or r["median_ms"] < best[key]["median_ms"]:
                    best[key] = r
    lines = ["| net | threads | median ms | min ms | load ms | peak RSS MB | model MB |", "|---|---|---|---|---|---|---|"]
    for (name, threads), r in sorted(best.items()):
        size = os.path.getsize(nets[name]) / 1e6
        lines.append(f"| {name} (fp32) | {threads} | {r['median_ms']:.2f} | {r['min_ms']:.2f} | {r['load_ms']:.1f} | "
                     f"{r['peak_rss_mb']:.1f} | {size:.1f} |")
    table = "\n".join(lines)
    print(table)
    (out / "bench.md").write_text(table + "\n")
    print(f"(written to {out / 'bench.md'})")


if __name__ == "__main__":
    main()
