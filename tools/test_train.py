#!/usr/bin/env python3
"""tools/train.py end to end on a small real subset of Fashion-MNIST (Debian's dataset-fashion-mnist): train,
resume, `quantize` with no flags, `mlrc-infer` and the Python binding on the result. Run by `make test-train`.

  python3 tools/test_train.py --bin .build/release --work .build-train/test

Checks that the checkpoint converts with the right class names, preprocessing and stage shortcut (which no
weight shows: fp32 logits equal PyTorch's only if quantize applied it), that int8 calibrated on the training
images the checkpoint names, and that a resumed run continues where it stopped. Prints `N passed, M failed`."""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))

passed, failed = 0, 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok: {what}")
    else:
        failed += 1
        print(f"FAIL: {what}" + (f"\n{detail}" if detail else ""))


def run(cmd):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--work", default=os.path.join(ROOT, ".build-train", "test"))
    args = ap.parse_args()
    bin_dir = os.path.abspath(args.bin)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    data = os.path.join(args.work, "data")
    rc, out = run([sys.executable, os.path.join(HERE, "fashion_mnist.py"), data, "--size", "32", "--per-class", "8"])
    if rc != 0:
        sys.exit(out)
    ckpt = os.path.join(args.work, "shortcut.pth")
    train = [sys.executable, os.path.join(HERE, "train.py"), data, "--arch", "convnext_atto", "--stage-shortcut", "on",
             "--input-size", "32", "--resize", "32", "--batch-size", "16", "--workers", "0", "--print-every", "2",
             "-o", ckpt]
    rc, out = run(train + ["--epochs", "1"])
    check(rc == 0 and "epoch 1/1:" in out and os.path.exists(ckpt), "train.py trains one epoch and saves", out)
    rc, out = run(train + ["--epochs", "2", "--resume"])
    check(rc == 0 and "resumed" in out and "after epoch 1" in out and "epoch 2/2:" in out and "epoch 1/2:" not in out,
          "--resume continues after the saved epoch", out)
    rc, out = run(train + ["--epochs", "2", "--resume", "--arch", "hsnet"])
    check(rc != 0 and "different network" in out, "--resume refuses a different network", out)

    fp32, int8 = os.path.join(args.work, "shortcut.fp32.mlrc"), os.path.join(args.work, "shortcut.mlrc")
    rc, out = run([os.path.join(bin_dir, "quantize"), ckpt, "--precision", "fp32", "-o", fp32])
    check(rc == 0 and "10 class names from the checkpoint's 'mlrc' entry" in out and "stage shortcut on" in out,
          "quantize reads the class names, preprocessing and stage shortcut with no flags", out)
    rc, out = run([os.path.join(bin_dir, "quantize"), ckpt])
    check(rc == 0 and "using the training images the checkpoint names" in out and
          f"images from {os.path.abspath(os.path.join(data, 'train'))}" in out and os.path.exists(int8),
          "int8 calibrates on the training images the checkpoint names", out)

    # mlrc-infer prints the class names the run was trained on.
    photo = os.path.join(data, "val", "Trouser", sorted(os.listdir(os.path.join(data, "val", "Trouser")))[0])
    rc, out = run([os.path.join(bin_dir, "mlrc-infer"), "--model", int8, "--top", "10", "--json", photo])
    try:
        names = {p["label"] for p in json.loads(out.strip().splitlines()[-1])["top"]}
    except (ValueError, KeyError, IndexError):
        names = set()
    classes = sorted(os.listdir(os.path.join(data, "train")))
    check(rc == 0 and names == set(classes), "mlrc-infer prints the training folders' class names", out)
    rc, out = run([os.path.join(bin_dir, "mlrc-infer"), "--model", int8, "--print-preprocessing"])
    check(rc == 0 and '"resize": 32' in out and '"height": 32' in out, "the model keeps the 32x32 preprocessing", out)

    # fp32 through the C API equals PyTorch on the same JPEGs: only true if the shortcut was applied.
    import numpy as np
    import fashion_benchmark
    import mlrc
    files, labels, preds, inputs, logits, _ = fashion_benchmark.pytorch_predictions(ckpt, data)
    session = mlrc.Model(fp32).session(threads=1)
    ours = np.stack([session.run(x) for x in inputs])
    err = float(np.abs(ours - logits).max() / np.abs(logits).max())
    check(err < 1e-5, f"mlrc fp32 logits equal PyTorch's (max error {err:.1e} of the largest)")
    top1 = [session.classify(f, top=1)[0].index for f in files]
    same = sum(int(a == b) for a, b in zip(top1, preds))
    check(same >= len(files) - 1, f"mlrc fp32 on the JPEG files agrees with PyTorch's top-1 on {same} of {len(files)}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
