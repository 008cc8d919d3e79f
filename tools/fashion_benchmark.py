#!/usr/bin/env python3
"""Accuracy on real labels: Fashion-MNIST (Debian's dataset-fashion-mnist) as 64x64 JPEGs, the paper's nets
trained here with tools/train.py, converted by `quantize` with no flags (int8 calibrated on training images,
and fp32), and classified through libmlrc (the Python binding over the C API) on the 10,000 test images,
against PyTorch fp32 on the same files.

  python3 tools/fashion_benchmark.py [--out .build-train/fashion] [--epochs 2] [--nets mlrc_atto,convnext_atto,hsnet]

Needs PyTorch and torchvision (`make bench-fashion` installs them in a virtual environment). Trained checkpoints
are kept in --out and resumed, so a second run only converts and measures. Prints a Markdown table and writes
results.json beside the checkpoints (keeping the nets of earlier runs there that this one did not measure)."""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))

# name -> train.py flags (beyond the data and size ones every net shares)
NETS = {
    "mlrc_atto": ["--arch", "mlrc_atto"],
    "convnext_atto": ["--arch", "convnext_atto"],
    "hsnet": ["--arch", "hsnet"],
    "convnext_atto_shortcut": ["--arch", "convnext_atto", "--stage-shortcut", "on"],
    "mlrc_atto_no_shortcut": ["--arch", "mlrc_atto", "--stage-shortcut", "off"],
    "mlrc_atto_strip7": ["--arch", "mlrc_atto", "--strip-k", "7"],
}


def run(cmd, log=None):
    print("$ " + " ".join(cmd), flush=True)
    if log is None:
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    with open(log, "a") as f:
        subprocess.run(cmd, check=True, stdout=f, stderr=subprocess.STDOUT)


def pytorch_predictions(ckpt_path, data):
    """Top-1 of PyTorch fp32 on the test JPEGs, with the validation transform train.py used; and the inputs
    of the first images, to compare logits with mlrc's on identical tensors."""
    import torch
    import train
    from torchvision import datasets as tvd
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    args = train.parse_args([data] + [str(a) for a in saved_flags(ckpt["args"])])
    model = train.build_model(args.arch, len(ckpt["mlrc"]["classes"]), args)
    model.load_state_dict(ckpt["model"])
    model.eval()
    _, val = train.datasets(args)
    loader = torch.utils.data.DataLoader(val, 250, shuffle=False, num_workers=1)
    preds, logits, first = [], [], None
    with torch.no_grad():
        for x, _ in loader:
            out = model(x)
            preds += out.argmax(1).tolist()
            if first is None:
                first, logits = x[:200].numpy(), out[:200].numpy()
    files = [p for p, _ in val.samples]
    labels = [c for _, c in val.samples]
    return files, labels, preds, first, logits, ckpt


def saved_flags(a):
    """train.py flags that rebuild the saved run's network and validation transform."""
    flags = ["--arch", a["arch"], "--input-size", a["input_size"], "--resize", a["resize"], "--interpolation",
             a["interpolation"], "--dw", a["dw"], "--strip-k", a["strip_k"],
             "--mean", ",".join(map(str, a["mean"])), "--std", ",".join(map(str, a["std"]))]
    if a.get("stage_shortcut"):
        flags += ["--stage-shortcut", a["stage_shortcut"]]
    return flags


def mlrc_predictions(model_path, files):
    import mlrc
    session = mlrc.Model(model_path).session(threads=0)
    return [session.classify(f, top=1)[0].index for f in files], session


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, ".build-train", "fashion"))
    ap.add_argument("--data", help="the ImageFolder (default: OUT/data, made from Debian's dataset)")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--nets", default="mlrc_atto,convnext_atto,hsnet",
                    help="comma-separated, of: " + ", ".join(NETS))
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    data = args.data or os.path.join(args.out, "data")
    if not os.path.isdir(os.path.join(data, "val")):
        run([sys.executable, os.path.join(HERE, "fashion_mnist.py"), data, "--size", str(args.size)])
    os.environ.setdefault("MLRC_LIBRARY", os.path.join(args.bin, "libmlrc.so"))
    results = []
    for name in args.nets.split(","):
        if name not in NETS:
            sys.exit(f"--nets: unknown {name} (one of {', '.join(NETS)})")
        ckpt = os.path.join(args.out, name + ".pth")
        log = os.path.join(args.out, name + ".log")
        t0 = time.time()
        flags = NETS[name] + ["--input-size", str(args.size), "--resize", str(args.size), "--crop-scale", "0.35",
                              "--epochs", str(args.epochs), "--print-every", "100", "-o", ckpt]
        run([sys.executable, os.path.join(HERE, "train.py"), data] + flags + (["--resume"] if os.path.exists(ckpt)
                                                                              else []), log)
        files, labels, torch_preds, first, torch_logits, saved = pytorch_predictions(ckpt, data)
        row = {"net": name, "epochs": saved["epoch"],
               "train_seconds": sum(h["seconds"] for h in saved["history"]), "images": len(files)}
        row["params"] = sum(v.numel() for k, v in saved["model"].items()
                            if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
        acc = lambda p: 100.0 * sum(int(a == b) for a, b in zip(p, labels)) / len(labels)
        row["pytorch_fp32"] = acc(torch_preds)
        for precision in ("fp32", "int8"):
            out = os.path.join(args.out, f"{name}.{precision}.mlrc")
            text = run([os.path.join(args.bin, "quantize"), ckpt, "--precision", precision, "-o", out])
            with open(os.path.join(args.out, f"{name}.{precision}.quantize.txt"), "w") as f:
                f.write(text)
            preds, session = mlrc_predictions(out, files)
            row[f"mlrc_{precision}"] = acc(preds)
            row[f"{precision}_differs_from_pytorch"] = sum(int(a != b) for a, b in zip(preds, torch_preds))
            row[f"{precision}_bytes"] = os.path.getsize(out)
            if precision == "fp32":
                import numpy as np
                ours = np.stack([session.run(x) for x in first])
                row["fp32_max_logit_error"] = float(np.abs(ours - torch_logits).max() / np.abs(torch_logits).max())
            else:
                row["int8_kept_fp32"] = next((l for l in text.splitlines() if l.startswith("int8:")), "")
        row["wall_seconds"] = time.time() - t0
        results.append(row)
        print(json.dumps(row), flush=True)
    # Nets measured by earlier runs into the same folder stay in the table (this run's replace theirs).
    path = os.path.join(args.out, "results.json")
    earlier = json.load(open(path)) if os.path.exists(path) else []
    done = {r["net"] for r in results}
    results = [r for r in earlier if r["net"] not in done] + results
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    print()
    print("| net | params | epochs (train time) | PyTorch fp32 | mlrc fp32 (differs) | mlrc int8 (differs) | "
          "int8 - fp32 | fp32 logit error |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['net']} | {r['params'] / 1e6:.2f} M | {r['epochs']} ({r['train_seconds'] / 60:.0f} min) | "
              f"{r['pytorch_fp32']:.2f}% | {r['mlrc_fp32']:.2f}% ({r['fp32_differs_from_pytorch']}) | "
              f"{r['mlrc_int8']:.2f}% ({r['int8_differs_from_pytorch']}) | "
              f"{r['mlrc_int8'] - r['pytorch_fp32']:+.2f} | {r['fp32_max_logit_error']:.1e} |")


if __name__ == "__main__":
    main()
