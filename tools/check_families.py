"""Full-size check of every torchvision/timm family and size mlrc builds: each model (random weights with
randomised BatchNorm statistics, or --pretrained) is saved with torch.save(model.state_dict()), converted with
`quantize --precision fp32`, run through libmlrc.so (ctypes, the real C API) on real photos at the family's
input size, and compared with PyTorch's logits (error relative to the largest |logit|; it must be <= 1e-3).

    python tools/check_families.py                    # every family and size (a few minutes per large net)
    python tools/check_families.py resnet18 mnasnet0_5 # some of them
    python tools/check_families.py --int8 resnet18    # also the default int8 conversion: logit cosine, top-1
    python tools/check_families.py --classes 10 resnet18 mobilenet_v2   # fine-tuned 10-class heads

Needs torch, torchvision and timm (pip), and `swift build -c release`."""
import argparse
import ctypes
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

TORCHVISION = [
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
    "resnext101_64x4d", "wide_resnet50_2", "densenet121", "densenet169", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "mnasnet0_5",
    "mnasnet0_75", "mnasnet1_0", "mnasnet1_3", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2",
    "efficientnet_b3", "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_y_400mf", "regnet_y_800mf",
    "regnet_y_1_6gf", "squeezenet1_0", "squeezenet1_1", "vgg11", "vgg11_bn",
    "vgg16", "vgg16_bn", "convnext_tiny",
]
TIMM = [
    "ghostnet_050", "ghostnet_100", "ghostnet_130", "mobilenetv1_100", "efficientnet_lite0", "efficientnet_lite1",
    "efficientnet_lite2", "efficientnet_lite3", "efficientnet_lite4", "tf_efficientnet_lite0", "tf_efficientnet_lite1",
    "tf_efficientnet_lite2", "tf_efficientnet_lite3", "tf_efficientnet_lite4",
    "seresnet18", "seresnet50", "convnext_atto", "convnext_tiny",
]
# Input sizes of the families' weights (torchvision's transforms, timm's default_cfg).
SIZES = {"efficientnet_b1": 240, "efficientnet_b2": 288, "efficientnet_b3": 300, "efficientnet_lite1": 240,
         "efficientnet_lite2": 260, "efficientnet_lite3": 280, "efficientnet_lite4": 300,
         "tf_efficientnet_lite1": 240, "tf_efficientnet_lite2": 260, "tf_efficientnet_lite3": 280,
         "tf_efficientnet_lite4": 300}


def calibrate_bn_(model, images, seed):
    """BatchNorm statistics measured on real images (then a random affine), as a trained net has them: with
    made-up statistics a random net's activations die or saturate and its logits stop depending on the input."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches
        n = m.num_features
        m.weight.data.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
        m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    model.train()
    with torch.no_grad():
        model(images)
    return model.eval()


def make(name, pretrained=False, classes=1000):
    if name.startswith("timm:"):
        import timm
        return timm.create_model(name[5:], pretrained=pretrained, num_classes=classes)
    import torchvision.models as tvm
    return getattr(tvm, name)(weights="DEFAULT" if pretrained else None, num_classes=classes)


def photo_input(path, size, width=None):
    """Resize the shorter side to max(size, width) / 0.875 (bilinear), centre-crop size x width (width defaults to
    size), ImageNet normalisation: as mlrc."""
    from PIL import Image
    width = width or size
    img = Image.open(path).convert("RGB")
    w, h = img.size
    r = int(round(max(size, width) / 0.875))
    nw, nh = (r, int(r * h / w)) if w <= h else (int(r * w / h), r)
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = int(round((nw - width) / 2.0)), int(round((nh - size) / 2.0))
    x = np.asarray(img.crop((left, top, left + width, top + size)), dtype=np.float32) / 255.0
    x = (x - np.array([0.485, 0.456, 0.406], dtype=np.float32)) / np.array([0.229, 0.224, 0.225], dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


class Lib:
    def __init__(self, path):
        self.lib = ctypes.CDLL(str(path))
        self.lib.mlrc_last_error.restype = ctypes.c_char_p
        self.lib.mlrc_model_architecture.restype = ctypes.c_char_p

    def run(self, model_path, x, classes, threads=2):
        m, s = ctypes.c_void_p(), ctypes.c_void_p()
        if self.lib.mlrc_model_open(str(model_path).encode(), ctypes.byref(m)) != 0:
            raise RuntimeError(self.lib.mlrc_last_error().decode())
        if self.lib.mlrc_session_create(m, threads, ctypes.byref(s)) != 0:
            raise RuntimeError(self.lib.mlrc_last_error().decode())
        y = np.zeros(classes, dtype=np.float32)
        xf = np.ascontiguousarray(x, dtype=np.float32)
        st = self.lib.mlrc_run(s, xf.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(xf.size),
                               y.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(classes))
        arch = self.lib.mlrc_model_architecture(m).decode()
        self.lib.mlrc_session_destroy(s)
        self.lib.mlrc_model_close(m)
        if st != 0:
            raise RuntimeError(f"mlrc_run status {st}")
        return y, arch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--pretrained", action="store_true", help="the packages' real weights (downloads them)")
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--photos", help="directory of JPEGs to compare on (default: the two test photos)")
    ap.add_argument("--bin", default=str(ROOT / ".build" / "release"))
    a = ap.parse_args()
    names = a.names or TORCHVISION + ["timm:" + n for n in TIMM]
    names = [n if n.startswith("timm:") or n in TORCHVISION else "timm:" + n for n in names]
    lib = Lib(pathlib.Path(a.bin) / "libmlrc.so")
    bn_photos = sorted((ROOT / "tools" / "calibration-photos").glob("*.jpg"))
    photos = sorted(pathlib.Path(a.photos).glob("*.jpg")) if a.photos else [
        ROOT / "Tests" / "Fixtures" / "images" / "chelsea.jpg", ROOT / "Tests" / "Fixtures" / "images" / "coffee.jpg"]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(names):
            short = name.split(":")[-1]
            size = SIZES.get(short, 224)
            torch.manual_seed(i)
            model = make(name, a.pretrained, a.classes).eval()
            if not a.pretrained:  # BatchNorm statistics from the bundled calibration photos, as training leaves them
                calibrate_bn_(model, torch.from_numpy(np.stack([photo_input(p, size) for p in bn_photos])), 100 + i)
            ckpt = pathlib.Path(tmp) / f"{short}.pth"
            torch.save(model.state_dict(), ckpt)
            arch = ["--arch", short] if short.startswith("tf_") else []
            for precision in ["fp32"] + (["int8"] if a.int8 else []):
                out = pathlib.Path(tmp) / f"{short}.{precision}.mlrc"
                r = subprocess.run([f"{a.bin}/quantize", str(ckpt), "--precision", precision, "-o", str(out)] + arch,
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    print(f"FAIL {short} {precision}: quantize: {r.stderr.strip() or r.stdout.strip()}")
                    failures += 1
                    continue
                errs, coss, agree = [], [], 0
                for p in photos:
                    x = photo_input(p, size)
                    with torch.no_grad():
                        want = model.double()(torch.from_numpy(x)[None].double())[0].float().numpy()
                    got, built = lib.run(out, x, a.classes)
                    errs.append(float(np.abs(got - want).max() / np.abs(want).max()))
                    coss.append(float(np.dot(got, want) / np.linalg.norm(got) / np.linalg.norm(want)))
                    agree += int(np.argmax(got) == np.argmax(want))
                model.float()
                ok = (max(errs) <= 1e-3 if precision == "fp32"
                      else np.mean(coss) >= 0.99 and agree >= 0.95 * len(photos))
                failures += 0 if ok else 1
                print(f"{'ok  ' if ok else 'FAIL'} {short:24s} {precision} as {built:24s} input {size} "
                      f"max rel err {max(errs):.2e} cosine mean {np.mean(coss):.5f} min {min(coss):.5f} "
                      f"top-1 {agree}/{len(photos)}", flush=True)
    print(f"{len(names)} nets, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
