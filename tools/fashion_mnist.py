#!/usr/bin/env python3
"""Fashion-MNIST (Debian's dataset-fashion-mnist: 60,000 training and 10,000 test images, 28x28 grey, 10 classes)
as an ImageFolder of JPEGs: OUT/train/CLASS/*.jpg and OUT/val/CLASS/*.jpg, grey replicated to RGB and upscaled
with bicubic interpolation to --size. Needs only Python and Pillow.

  python3 tools/fashion_mnist.py OUT [--size 64] [--per-class N] [--quality 95]

--per-class N keeps the first N images of each class in each split (a small subset for tests)."""
import argparse
import gzip
import os
import struct
import sys

DATASET = "/usr/share/datasets/fashion-mnist"
# Folder names of the ten classes, in label order (the dataset's own names, made safe for a file system).
CLASSES = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"]


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 8 or struct.unpack(">I", data[:4])[0] != magic:
        sys.exit(f"{path}: not an IDX file of the expected kind")
    count = struct.unpack(">I", data[4:8])[0]
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        body = data[16:]
        if len(body) != count * rows * cols:
            sys.exit(f"{path}: truncated")
        return [body[i * rows * cols:(i + 1) * rows * cols] for i in range(count)], (rows, cols)
    body = data[8:]
    if len(body) != count:
        sys.exit(f"{path}: truncated")
    return list(body), None


def write_split(images, shape, labels, out, size, per_class, quality):
    from PIL import Image
    counts = [0] * len(CLASSES)
    for c in CLASSES:
        os.makedirs(os.path.join(out, c), exist_ok=True)
    for i, (pixels, label) in enumerate(zip(images, labels)):
        if label >= len(CLASSES):
            sys.exit(f"label {label} out of range")
        if per_class is not None and counts[label] >= per_class:
            continue
        counts[label] += 1
        grey = Image.frombytes("L", (shape[1], shape[0]), pixels)
        if size != shape[0]:
            grey = grey.resize((size, size), Image.BICUBIC)
        grey.convert("RGB").save(os.path.join(out, CLASSES[label], f"{i:05d}.jpg"), quality=quality)
    return sum(counts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--per-class", type=int)
    ap.add_argument("--quality", type=int, default=95)
    ap.add_argument("--dataset", default=DATASET, help="folder of the four .gz files (default: Debian's)")
    args = ap.parse_args()
    if not os.path.isdir(args.dataset):
        sys.exit(f"{args.dataset} not found: install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
    for split, prefix in [("train", "train"), ("val", "t10k")]:
        images, shape = read_idx(os.path.join(args.dataset, f"{prefix}-images-idx3-ubyte.gz"), 2051)
        labels, _ = read_idx(os.path.join(args.dataset, f"{prefix}-labels-idx1-ubyte.gz"), 2049)
        if len(images) != len(labels):
            sys.exit(f"{prefix}: {len(images)} images but {len(labels)} labels")
        n = write_split(images, shape, labels, os.path.join(args.out, split), args.size, args.per_class, args.quality)
        print(f"{split}: {n} images in {os.path.join(args.out, split)}")


if __name__ == "__main__":
    main()
