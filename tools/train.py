#!/usr/bin/env python3
"""Train a network that mlrc runs on your own images, and write a checkpoint `quantize` converts with no flags.

  python3 tools/train.py DATA --arch mlrc_atto --input-size 64 --epochs 30 -o model.pth
  quantize model.pth                      # int8, calibrated on DATA/train; class names and preprocessing kept
  mlrc-infer --model model.mlrc photo.jpg

DATA is an ImageFolder: DATA/train/CLASS/*.jpg and DATA/val/CLASS/*.jpg (the class names are the folder names,
in sorted order). The checkpoint holds the weights under 'model' (the parameter names docs/ARCHITECTURES.md
gives), the optimizer and schedule state (to --resume), and under 'mlrc' what `quantize` reads: the
architecture, the class names, the validation preprocessing and the training images to calibrate on.

The default recipe is the MLRC paper's (ConvNeXt's training, scaled to short runs): AdamW (weight decay on
weights only, not on norms, biases or layer scales), cosine learning-rate schedule after a linear warmup,
label smoothing, RandomResizedCrop + horizontal flip, truncated-normal init with layer scale 1e-6 for the
ConvNeXt family. Runs on CPU or a CUDA GPU."""
import argparse
import math
import os
import random
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_models  # noqa: E402  (the MLRC-ConvNeXt, ConvNeXt and HSNet definitions)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# The checkpoint's 'mlrc' entry: bump when its meaning changes (quantize refuses a newer one).
METADATA_FORMAT = 1


# ---------------------------------------------------------------- networks

def convnext_family(arch):
    """'mlrc_atto' -> ('mlrc', 'atto'); 'convnext_tiny' -> ('convnext', 'tiny'); else None."""
    for prefix in ("mlrc", "convnext"):
        if arch.startswith(prefix + "_") and arch[len(prefix) + 1:] in reference_models.CONVNEXT_SIZES:
            return prefix, arch[len(prefix) + 1:]
    return None


def build_model(arch, num_classes, args):
    """The network `arch` names (a name of `quantize --list-archs`), freshly initialised."""
    cn = convnext_family(arch)
    if cn:
        depths, dims = reference_models.CONVNEXT_SIZES[cn[1]]
        strip, shortcut = convnext_options(args)
        model = reference_models.ConvNeXt(depths, dims, num_classes, mlrc=strip, strip_k=args.strip_k,
                                          stage_shortcut=shortcut)
        init_convnext_(model)
        return model
    if arch == "hsnet":
        return reference_models.HSNet(num_classes=num_classes)
    import torchvision
    if arch in torchvision.models.list_models(module=torchvision.models):
        return torchvision.models.get_model(arch, weights=None, num_classes=num_classes)
    if arch.startswith("efficientnet_lite") and not arch.startswith("tf_"):
        try:
            return reference_models.efficientnet_lite(arch.replace("_", "-"), num_classes)
        except ImportError:
            pass
    try:
        import timm
    except ImportError:
        timm = None
    if timm is not None and timm.is_model(arch):
        return timm.create_model(arch, pretrained=False, num_classes=num_classes)
    sys.exit(f"--arch {arch}: unknown here (the names of `quantize --list-archs`; timm's need `pip install timm`)")


def init_convnext_(model):
    """ConvNeXt's own init: truncated normal (std 0.02) weights, zero biases; layer scales stay at 1e-6."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def load_init_(model, path):
    """Starts from another checkpoint's weights (fine-tuning): every tensor whose name and shape match."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    state = ckpt.get("model", ckpt) if isinstance(ckpt, dict) else ckpt
    own = model.state_dict()
    taken = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(taken, strict=False)
    print(f"init: {len(taken)} of {len(own)} tensors from {path}")


# ---------------------------------------------------------------- data

def datasets(args):
    from torchvision import datasets as tvd, transforms as T
    mean, std = args.mean, args.std
    interp = T.InterpolationMode.BICUBIC if args.interpolation == "bicubic" else T.InterpolationMode.BILINEAR
    train_tf = [T.RandomResizedCrop(args.input_size, scale=(args.crop_scale, 1.0), interpolation=interp)]
    if not args.no_flip:
        train_tf.append(T.RandomHorizontalFlip())
    train_tf += [T.ToTensor(), T.Normalize(mean, std)]
    # Validation as mlrc runs it: resize the shorter side, centre crop (the preprocessing quantize stores).
    val_tf = T.Compose([T.Resize(args.resize, interpolation=interp), T.CenterCrop(args.input_size), T.ToTensor(),
                        T.Normalize(mean, std)])
    train_dir, val_dir = os.path.join(args.data, "train"), os.path.join(args.data, "val")
    if not os.path.isdir(train_dir):
        sys.exit(f"{train_dir} not found: DATA must hold train/CLASS/*.jpg (and val/CLASS/*.jpg)")
    train = tvd.ImageFolder(train_dir, T.Compose(train_tf))
    if not os.path.isdir(val_dir):
        print(f"note: {val_dir} not found: training without validation")
        return train, None
    val = tvd.ImageFolder(val_dir, val_tf)
    if train.classes != val.classes:
        sys.exit(f"train/ and val/ have different classes: {train.classes} / {val.classes}")
    return train, val


def loaders(train, val, args, device):
    pin = device.type == "cuda"
    kw = dict(num_workers=args.workers, pin_memory=pin, persistent_workers=args.workers > 0)
    g = torch.Generator().manual_seed(args.seed)
    return (torch.utils.data.DataLoader(train, args.batch_size, shuffle=True, drop_last=len(train) > args.batch_size,
                                        generator=g, **kw),
            torch.utils.data.DataLoader(val, args.batch_size, shuffle=False, **kw) if val is not None else None)


# ---------------------------------------------------------------- schedule and optimizer

def optimizer_for(model, args):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or name.endswith("gamma") else decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.999))


def lr_at(step, total, warmup, base, minimum):
    """Linear warmup to `base`, then half a cosine down to `minimum`."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return minimum + 0.5 * (base - minimum) * (1 + math.cos(math.pi * min(1.0, t)))


# ---------------------------------------------------------------- checkpoint

def metadata(args, classes, val_top1, epoch):
    """What quantize reads from the checkpoint: plain values only (its reader never runs code)."""
    meta = {
        "format": METADATA_FORMAT,
        "arch": quantize_arch(args),
        "classes": list(classes),
        "input_size": args.input_size,
        "resize": args.resize,
        "mean": [float(v) for v in args.mean],
        "std": [float(v) for v in args.std],
        "interpolation": args.interpolation,
        "calibration": os.path.abspath(os.path.join(args.data, "train")),
        "epochs": epoch,
        "val_top1": val_top1,
    }
    if convnext_family(args.arch):
        meta["stage_shortcut"] = convnext_options(args)[1]
    return meta


def convnext_options(args):
    """(strip depthwise convs, stage shortcut) of a ConvNeXt-family run: the mlrc_ names default both on."""
    kind = convnext_family(args.arch)[0]
    strip = (kind == "mlrc") if args.dw == "auto" else args.dw == "strip"
    shortcut = (kind == "mlrc") if args.stage_shortcut is None else args.stage_shortcut == "on"
    return strip, shortcut


def quantize_arch(args):
    """The --arch name quantize knows the trained net by: strip nets are mlrc_SIZE, square ones convnext_SIZE
    (the stage shortcut, which has no weights, is recorded beside it)."""
    cn = convnext_family(args.arch)
    return (("mlrc_" if convnext_options(args)[0] else "convnext_") + cn[1]) if cn else args.arch


def save(path, model, opt, step, epoch, args, classes, val_top1, history):
    state = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "step": step,
        "epoch": epoch,
        "history": history,
        "args": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items()},
        "rng": {"torch": torch.get_rng_state(), "python": random.getstate()},
        "mlrc": metadata(args, classes, val_top1, epoch),
    }
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)  # a run stopped while saving leaves the last complete checkpoint


# ---------------------------------------------------------------- loops

def evaluate(model, loader, device, num_classes):
    model.eval()
    correct1 = correct5 = total = 0
    loss = 0.0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            out = model(x)
            loss += F.cross_entropy(out, y, reduction="sum").item()
            top = out.topk(min(5, num_classes), 1).indices
            correct1 += (top[:, 0] == y).sum().item()
            correct5 += (top == y[:, None]).any(1).sum().item()
            total += y.numel()
    return 100.0 * correct1 / max(1, total), 100.0 * correct5 / max(1, total), loss / max(1, total)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="ImageFolder root: DATA/train/CLASS/*.jpg, DATA/val/CLASS/*.jpg")
    ap.add_argument("--arch", default="mlrc_atto", help="a name of `quantize --list-archs` (default mlrc_atto)")
    ap.add_argument("-o", "--output", help="checkpoint to write (default: ARCH.pth); rewritten after each epoch")
    ap.add_argument("--resume", action="store_true", help="continue the run saved in --output")
    ap.add_argument("--init", help="start from this checkpoint's weights where names and shapes match")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, help="peak learning rate (default 1e-3 x batch / 128)")
    ap.add_argument("--min-lr", type=float, default=1e-6)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--warmup-epochs", type=float, help="linear warmup (default: a tenth of the run, at most 5)")
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--input-size", type=int, default=224, help="square network input (default 224)")
    ap.add_argument("--resize", type=int, help="validation: shorter side before the centre crop (default input/0.875)")
    ap.add_argument("--crop-scale", type=float, default=0.08,
                    help="RandomResizedCrop's smallest area fraction (default 0.08; 0.3-0.5 for small images)")
    ap.add_argument("--no-flip", action="store_true", help="no random horizontal flip (e.g. for text or digits)")
    ap.add_argument("--interpolation", choices=["bilinear", "bicubic"], default="bilinear")
    ap.add_argument("--mean", type=lambda s: tuple(float(v) for v in s.split(",")), default=IMAGENET_MEAN)
    ap.add_argument("--std", type=lambda s: tuple(float(v) for v in s.split(",")), default=IMAGENET_STD)
    ap.add_argument("--stage-shortcut", choices=["on", "off"],
                    help="ConvNeXt family: the MLRC stage-level shortcut (default: on for mlrc_*, off for convnext_*)")
    ap.add_argument("--dw", choices=["auto", "strip", "square"], default="auto",
                    help="ConvNeXt family: strip (kx1 then 1xk) or square 7x7 depthwise (default: strip for mlrc_*)")
    ap.add_argument("--strip-k", type=int, default=3, help="strip length k (default 3; 7 is the 7x7's split)")
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    ap.add_argument("--threads", type=int, help="CPU threads for PyTorch (default: all)")
    ap.add_argument("--workers", type=int, default=min(4, max(1, (os.cpu_count() or 2) // 2)),
                    help="data-loading processes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--print-every", type=int, default=50, help="steps between progress lines")
    args = ap.parse_args(argv)
    if args.resize is None:
        args.resize = int(args.input_size / 0.875)
    if args.resize < args.input_size:
        ap.error("--resize must be at least --input-size")
    if args.lr is None:
        args.lr = 1e-3 * args.batch_size / 128
    if args.warmup_epochs is None:
        args.warmup_epochs = min(5.0, args.epochs / 10)
    if len(args.mean) != 3 or len(args.std) != 3 or min(args.std) <= 0:
        ap.error("--mean and --std take three numbers R,G,B (std above 0)")
    if not 0 < args.crop_scale <= 1:
        ap.error("--crop-scale must be in (0, 1]")
    if args.output is None:
        args.output = args.arch + ".pth"
    return args


def main(argv=None):
    args = parse_args(argv)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    train, val = datasets(args)
    classes = train.classes
    model = build_model(args.arch, len(classes), args)
    if args.init:
        load_init_(model, args.init)
    model.to(device)
    opt = optimizer_for(model, args)
    train_loader, val_loader = loaders(train, val, args, device)
    steps_per_epoch = len(train_loader)
    total_steps = args.epochs * steps_per_epoch
    warmup = int(args.warmup_epochs * steps_per_epoch)
    step, start_epoch, history = 0, 0, []
    if args.resume:
        if not os.path.exists(args.output):
            sys.exit(f"--resume: {args.output} does not exist")
        ckpt = torch.load(args.output, map_location="cpu", weights_only=False)
        if ckpt.get("mlrc", {}).get("classes") != classes or ckpt.get("args", {}).get("arch") != args.arch:
            sys.exit(f"--resume: {args.output} was trained as a different network or on different classes")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        step, start_epoch, history = ckpt["step"], ckpt["epoch"], ckpt.get("history", [])
        torch.set_rng_state(ckpt["rng"]["torch"])
        random.setstate(ckpt["rng"]["python"])
        print(f"resumed {args.output} after epoch {start_epoch} (step {step})")
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.arch}: {params / 1e6:.3f} M parameters, {len(classes)} classes, {len(train)} training and "
          f"{len(val) if val is not None else 0} validation images, {args.input_size}x{args.input_size}, {device}"
          f"{'' if device.type == 'cuda' else f', {torch.get_num_threads()} threads'}")
    print(f"recipe: AdamW lr {args.lr:g} wd {args.weight_decay:g}, {args.epochs} epochs ({args.warmup_epochs:g} "
          f"warmup), cosine to {args.min_lr:g}, label smoothing {args.label_smoothing:g}, batch {args.batch_size}, "
          f"RandomResizedCrop({args.crop_scale:g}, 1){'' if args.no_flip else ' + flip'}")
    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    val_top1 = history[-1]["val_top1"] if history else None
    for epoch in range(start_epoch, args.epochs):
        # Each epoch's order depends on the seed and the epoch alone: a resumed run sees the batches it would have.
        train_loader.generator.manual_seed(args.seed + epoch)
        model.train()
        t0, seen, loss_sum, correct = time.time(), 0, 0.0, 0
        for i, (x, y) in enumerate(train_loader):
            for group in opt.param_groups:
                group["lr"] = lr_at(step, total_steps, warmup, args.lr, args.min_lr)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            out = model(x)
            loss = criterion(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            seen += y.numel()
            loss_sum += loss.item() * y.numel()
            correct += (out.argmax(1) == y).sum().item()
            if not math.isfinite(loss.item()):
                sys.exit(f"epoch {epoch + 1} step {i + 1}: the loss is {loss.item()}; try a lower --lr")
            if (i + 1) % args.print_every == 0 or i + 1 == steps_per_epoch:
                rate = seen / max(1e-9, time.time() - t0)
                print(f"epoch {epoch + 1}/{args.epochs} step {i + 1}/{steps_per_epoch} loss {loss_sum / seen:.4f} "
                      f"lr {opt.param_groups[0]['lr']:.2e} {rate:.0f} img/s", flush=True)
        train_time = time.time() - t0
        val_top1, val_top5, val_loss = (evaluate(model, val_loader, device, len(classes)) if val_loader else
                                        (None, None, None))
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / max(1, seen),
                        "train_top1": 100.0 * correct / max(1, seen), "val_loss": val_loss, "val_top1": val_top1,
                        "val_top5": val_top5, "seconds": train_time})
        val_text = (f"val loss {val_loss:.4f} top-1 {val_top1:.2f}% top-5 {val_top5:.2f}%" if val_loader else
                    "no validation set")
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {loss_sum / max(1, seen):.4f} top-1 "
              f"{100.0 * correct / max(1, seen):.2f}% | {val_text} | {train_time:.0f} s", flush=True)
        save(args.output, model, opt, step, epoch + 1, args, classes, val_top1, history)
    print(f"wrote {args.output}" + (f" (val top-1 {val_top1:.2f}%)" if val_top1 is not None else "") +
          f"; next: quantize {args.output}")


if __name__ == "__main__":
    main()
