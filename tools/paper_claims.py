#!/usr/bin/env python3
"""The MLRC and HSNet papers' inference-side claims, measured by mlrc: for ConvNeXt-atto with and without the
stage-level shortcut and with square 7x7 or strip depthwise convolutions, and for HSNet, at 224x224 with 1000
classes: parameters and multiply-accumulates (counted on the PyTorch module), mlrc's activation memory (its
planned buffers and scratch, from `mlrc-infer --profile`), peak RSS, fp32 and int8 latency (median of 30 runs,
best of --rounds interleaved rounds, 1 and 2 threads) and model file sizes; plus the Fashion-MNIST accuracy of
each variant where tools/fashion_benchmark.py trained it.

  python3 tools/paper_claims.py [--out .build-train/claims] [--fashion .build-train/fashion] [--rounds 3]

The weights are the Fashion-MNIST ones where trained (their head widened to 1000 classes with fresh rows, so
every variant has ImageNet's head), else random with BatchNorm statistics that look trained: latency and memory
do not depend on the values, except through the layers int8 keeps in fp32, which the table lists."""
import argparse
import json
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

# name -> (what it is, reference_models.ConvNeXt arguments or "hsnet", fashion_benchmark net name)
VARIANTS = {
    "convnext_atto": ("ConvNeXt-atto: 7x7 depthwise, no stage shortcut", dict(mlrc=False, stage_shortcut=False),
                      "convnext_atto"),
    "convnext_atto_shortcut": ("7x7 depthwise + stage shortcut", dict(mlrc=False, stage_shortcut=True),
                               "convnext_atto_shortcut"),
    "mlrc_atto_no_shortcut": ("strip 3x1/1x3, no stage shortcut", dict(mlrc=True, strip_k=3, stage_shortcut=False),
                              "mlrc_atto_no_shortcut"),
    "mlrc_atto": ("MLRC-ConvNeXt-atto: strip 3x1/1x3 + stage shortcut", dict(mlrc=True, strip_k=3,
                                                                             stage_shortcut=True), "mlrc_atto"),
    "mlrc_atto_strip7": ("strip 7x1/1x7 + stage shortcut", dict(mlrc=True, strip_k=7, stage_shortcut=True),
                         "mlrc_atto_strip7"),
    "hsnet": ("HSNet", "hsnet", "hsnet"),
}


def sh(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, **kw).stdout


def build(spec):
    import reference_models as R
    if spec == "hsnet":
        return R.HSNet(1000)
    depths, dims = R.CONVNEXT_SIZES["atto"]
    return R.ConvNeXt(depths, dims, 1000, **spec)


def count(model, size):
    """Parameters, and multiply-accumulates of one size x size image (convolutions and linear layers)."""
    import torch
    import torch.nn as nn
    macs = [0]

    def hook(mod, inp, out):
        if isinstance(mod, (nn.Conv2d, nn.Conv1d)):
            macs[0] += out.numel() * mod.weight[0].numel()
        elif isinstance(mod, nn.Linear):
            macs[0] += out.numel() // out.shape[-1] * mod.weight.numel()
    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, size, size))
    for h in handles:
        h.remove()
    return sum(p.numel() for p in model.parameters()), macs[0]


def checkpoint(name, spec, fashion_dir, out):
    """The variant's weights at 1000 classes: trained on Fashion-MNIST when that run exists, else random."""
    import torch
    import reference_models as R
    model = build(spec)
    trained = os.path.join(fashion_dir, VARIANTS[name][2] + ".pth") if fashion_dir else None
    source = "random"
    if trained and os.path.exists(trained):
        state = torch.load(trained, map_location="cpu", weights_only=False)["model"]
        own = model.state_dict()
        head = "fc" if spec == "hsnet" else "head"
        for k in (head + ".weight", head + ".bias"):
            fresh = own[k].clone()
            fresh[:state[k].shape[0]] = state[k]
            state[k] = fresh
        model.load_state_dict(state)
        source = "Fashion-MNIST"
    else:
        R.randomize_(model, 1)
    path = os.path.join(out, name + ".pth")
    shortcut = None if spec == "hsnet" else spec["stage_shortcut"]
    meta = {"format": 1, "arch": "hsnet" if spec == "hsnet" else ("mlrc_atto" if spec["mlrc"] else "convnext_atto")}
    if shortcut is not None:
        meta["stage_shortcut"] = shortcut
    torch.save({"model": model.state_dict(), "mlrc": meta}, path)
    return path, model, source


def bench(exe, model, threads, env):
    return json.loads(sh([exe, model, threads, 30], env=env))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, ".build-train", "claims"))
    ap.add_argument("--fashion", default=os.path.join(ROOT, ".build-train", "fashion"),
                    help="tools/fashion_benchmark.py's output: trained weights and results.json")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--isa", default="auto", help="MLRC_ISA for the measurements (e.g. avx2 on an AVX-512 CPU)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    bin_dir = os.path.abspath(args.bin)
    exe = os.path.join(args.out, "bench_mlrc")
    sh(["gcc", "-O2", "-I", os.path.join(ROOT, "include"), os.path.join(HERE, "bench_mlrc.c"), "-o", exe, "-L",
        bin_dir, "-lmlrc", "-Wl,-rpath," + bin_dir])
    env = dict(os.environ)
    if args.isa != "auto":
        env["MLRC_ISA"] = args.isa
    accuracy = {}
    results_json = os.path.join(args.fashion, "results.json")
    if os.path.exists(results_json):
        accuracy = {r["net"]: r for r in json.load(open(results_json))}
    calib = os.path.join(ROOT, "tools", "calibration-photos")
    photo = os.path.join(ROOT, "Tests", "Fixtures", "images", "chelsea.jpg")
    rows = {}
    for name in args.variants.split(","):
        what, spec, fashion_name = VARIANTS[name]
        ckpt, model, source = checkpoint(name, spec, args.fashion, args.out)
        params, macs = count(model, 224)
        row = {"variant": name, "what": what, "weights": source, "params": params, "macs": macs}
        for precision in ("fp32", "int8"):
            out = os.path.join(args.out, f"{name}.{precision}.mlrc")
            # ImageNet-sized photos calibrate the 224 input (the Fashion images are 64x64).
            text = sh([os.path.join(bin_dir, "quantize"), ckpt, "--precision", precision, "--calib", calib,
                       "--calib-limit", "64", "-o", out])
            row[f"{precision}_bytes"] = os.path.getsize(out)
            if precision == "int8":
                row["int8_layers"] = next((l for l in text.splitlines() if l.startswith("int8:")), "")
            prof = sh([os.path.join(bin_dir, "mlrc-infer"), "--model", out, "--profile", "1", "--threads", "1", photo],
                      env=env)
            mem = next(l for l in prof.splitlines() if l.startswith("memory:"))
            for key, label in (("activation", "activations"), ("scratch", "scratch")):
                row[f"{precision}_{key}_kib"] = int(re.search(label + r" (\d+) KiB", mem).group(1))
            row[f"{precision}_model"] = out
        if fashion_name in accuracy:
            a = accuracy[fashion_name]
            row["fashion"] = {k: a[k] for k in ("pytorch_fp32", "mlrc_fp32", "mlrc_int8", "epochs")}
        rows[name] = row
    # Interleaved: every model once per round, the best round's median kept (other load on the machine moves
    # whole rounds, not one model).
    for r in range(args.rounds):
        for name, row in rows.items():
            for precision in ("fp32", "int8"):
                for threads in (1, 2):
                    b = bench(exe, row[f"{precision}_model"], threads, env)
                    key = f"{precision}_{threads}t"
                    row[key + "_ms"] = min(row.get(key + "_ms", 1e9), b["median_ms"])
                    row[f"{precision}_peak_rss_mb"] = max(row.get(f"{precision}_peak_rss_mb", 0), b["peak_rss_mb"])
                    row["isa"] = b["isa"]
        print(f"round {r + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    with open(os.path.join(args.out, "claims.json"), "w") as f:
        json.dump(list(rows.values()), f, indent=1)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
               platform.machine())
    print(f"CPU: {cpu}; mlrc kernels: {next(iter(rows.values()))['isa']}; 224x224, 1000 classes")
    print()
    print("| variant | params | MACs | activations fp32 / int8 | peak RSS fp32 / int8 | fp32 ms 1t / 2t | "
          "int8 ms 1t / 2t | int8 file | Fashion-MNIST fp32 / int8 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows.values():
        f = row.get("fashion")
        acc = f"{f['pytorch_fp32']:.2f}% / {f['mlrc_int8']:.2f}%" if f else "not trained"
        print(f"| {row['what']} | {row['params'] / 1e6:.3f} M | {row['macs'] / 1e6:.1f} M | "
              f"{row['fp32_activation_kib'] / 1024:.2f} / {row['int8_activation_kib'] / 1024:.2f} MiB | "
              f"{row['fp32_peak_rss_mb']:.0f} / {row['int8_peak_rss_mb']:.0f} MB | "
              f"{row['fp32_1t_ms']:.2f} / {row['fp32_2t_ms']:.2f} | {row['int8_1t_ms']:.2f} / {row['int8_2t_ms']:.2f} | "
              f"{row['int8_bytes'] / 1e6:.2f} MB | {acc} |")
    for row in rows.values():
        print(f"  {row['variant']}: {row['int8_layers']} (weights: {row['weights']})")


if __name__ == "__main__":
    main()
