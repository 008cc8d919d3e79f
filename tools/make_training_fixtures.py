#!/usr/bin/env python3
"""Checkpoints shaped like training scripts write them, for the tests of what quantize reads beside the weights:
the 'mlrc' entry of tools/train.py (architecture, class names, preprocessing, training images), the
'class_to_idx' other scripts keep, and 'mlrc' entries a reader must refuse. The weights are the committed
torchvision DenseNet fixture's (10 classes), so the files stay small.

  python3 tools/make_training_fixtures.py      # needs PyTorch; writes Tests/Fixtures/checkpoints/trained_*.pth"""
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CKPT = os.path.join(ROOT, "Tests", "Fixtures", "checkpoints")
FUZZ = os.path.join(ROOT, "Tests", "Fixtures", "fuzz", "checkpoint")
CLASSES = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot \u2713"]


def main():
    sd = torch.load(os.path.join(CKPT, "tv_densenet.pth"), map_location="cpu", weights_only=True)
    opt = torch.optim.AdamW([torch.nn.Parameter(v.clone().float()) for k, v in sd.items() if v.is_floating_point()][:3])
    opt.zero_grad()
    for group in opt.param_groups:
        for p in group["params"]:
            p.grad = torch.ones_like(p)
    opt.step()
    meta = {"format": 1, "arch": "densenet121", "classes": CLASSES, "input_size": 64, "resize": 72,
            "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "interpolation": "bicubic",
            "calibration": "Tests/Fixtures/images", "epochs": 3, "val_top1": 91.5}
    torch.save({"model": sd, "optimizer": opt.state_dict(), "epoch": 3, "step": 1407, "mlrc": meta},
               os.path.join(CKPT, "trained_densenet_mlrc.pth"))
    torch.save({"state_dict": sd, "class_to_idx": {c: i for i, c in enumerate(CLASSES)}},
               os.path.join(CKPT, "trained_densenet_class_to_idx.pth"))
    # Entries to refuse, each beside a one-tensor state_dict (the metadata is read before the architecture).
    tiny = {"w": torch.zeros(1)}
    bad = {
        "newer_format": {"format": 2},
        "size_as_string": {"input_size": "64"},
        "std_zero": {"std": [0.5, 0.0, 0.5]},
        "classes_with_newline": {"classes": ["cat", "dog\nfish"]},
        "not_a_dict": ["arch", "hsnet"],
    }
    for name, entry in bad.items():
        torch.save({"model": tiny, "mlrc": entry}, os.path.join(CKPT, f"trained_bad_{name}.pth"))
    # Small seeds for the checkpoint fuzzer: every field of the entry, and the refused ones.
    torch.save({"model": tiny, "mlrc": dict(meta, stage_shortcut=True)}, os.path.join(FUZZ, "metadata-valid.pth"))
    torch.save({"model": tiny, "class_to_idx": {"a": 1, "b": 0}}, os.path.join(FUZZ, "metadata-class_to_idx.pth"))
    for name in ("classes_with_newline", "std_zero", "newer_format"):
        torch.save({"model": tiny, "mlrc": bad[name]}, os.path.join(FUZZ, f"metadata-{name}.pth"))
    print("wrote", ", ".join(sorted(f for f in os.listdir(CKPT) if f.startswith("trained_"))))


if __name__ == "__main__":
    main()
