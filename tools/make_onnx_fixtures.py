"""Writes the ONNX fixtures under Tests/Fixtures/onnx: small networks of the families (the same narrow builds as
tools/make_family_fixtures.py, BatchNorm statistics measured on the photos) exported by torch.onnx.export with
both exporters and opsets 13 and 17, ONNX Runtime's logits on the committed photo inputs, a network of odd
topology at a 160x128 input (its input and output committed beside it), and a model quantized by ONNX Runtime's
quantize_static (QDQ) with ONNX Runtime's own int8 logits. `make test` converts the 224x224 ones with quantize and
checks them through the C API; the Swift tests read the others. Run with torch, torchvision, timm, onnx,
onnxruntime and onnxscript installed (CI does not need them: the output is committed):

    python tools/make_onnx_fixtures.py"""
import json
import pathlib
import sys
import warnings

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIX = ROOT / "Tests" / "Fixtures"
OUT = FIX / "onnx"
sys.path.insert(0, str(ROOT / "tools"))
from check_families import calibrate_bn_, photo_input  # noqa: E402
from check_onnx import OddNet, crop  # noqa: E402
import make_family_fixtures as fam  # noqa: E402

# fixture name, family fixture it is built like, opset, exporter
EXPORTS = [
    ("onnx_resnet_op13_torchscript", "tv_resnet_basic_finetuned", 13, "torchscript"),
    ("onnx_shufflenet_op17_dynamo", "tv_shufflenet_v2", 17, "dynamo"),
    ("onnx_convnext_op13_torchscript", "tv_convnext", 13, "torchscript"),
    ("onnx_convnext_op17_dynamo", "tv_convnext", 17, "dynamo"),
    ("onnx_mobilenet_v3_op17_torchscript", "tv_mobilenet_v3_large", 17, "torchscript"),
    ("onnx_efficientnet_op13_dynamo", "tv_efficientnet_b", 13, "dynamo"),
    ("onnx_squeezenet_op13_torchscript", "tv_squeezenet1_0", 13, "torchscript"),
    ("onnx_vgg_bn_op17_torchscript", "tv_vgg_bn", 17, "torchscript"),
]
HARD_INT8 = {"onnx_mobilenet_v3_op17_torchscript": 0.97, "onnx_efficientnet_op13_dynamo": 0.97}


def export(model, x, path, opset, exporter):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), opset_version=opset, dynamo=exporter == "dynamo",
                          input_names=["input"], output_names=["logits"], external_data=exporter == "dynamo")


def ort_run(path, xs):
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return [sess.run(None, {name: x[None].astype(np.float32)})[0].reshape(-1) for x in xs]


class FuzzSeed(torch.nn.Module):
    """A few kilobytes of most of what the importer reads: conv + BatchNorm + ReLU, a depthwise conv with an SE gate
    and hardswish, a channel shuffle, a LayerNorm over channels through permutes, concat, a ceil-mode max pool, GELU,
    a classifier; 16x16 input."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.dw = nn.Sequential(nn.Conv2d(4, 4, 3, 1, 1, groups=4), nn.Hardswish())
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(4, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 1), nn.Sigmoid())
        self.norm = nn.LayerNorm(8)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.stem(x)
        y = self.dw(x)
        y = y * self.se(y)
        x = torch.cat([x, y], 1)
        b, c, h, w = x.shape
        x = x.view(b, 2, c // 2, h, w).transpose(1, 2).reshape(b, c, h, w)
        x = self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        x = torch.nn.functional.gelu(self.pool(x))
        return self.fc(x.mean((2, 3)))


def fuzz_seeds():
    """Small ONNX files for the onnx fuzz target's seeds (Tests/Fixtures/fuzz/onnx)."""
    seeds = FIX / "fuzz" / "onnx"
    seeds.mkdir(parents=True, exist_ok=True)
    for old in seeds.glob("*"):
        old.unlink()
    torch.manual_seed(3)
    model = FuzzSeed().eval()
    x = torch.randn(1, 3, 16, 16)
    for opset, exporter in [(13, "torchscript"), (17, "torchscript"), (18, "dynamo")]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (x,), str(seeds / f"seed_op{opset}_{exporter}.onnx"), opset_version=opset,
                              dynamo=exporter == "dynamo", external_data=False)
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    class Random(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"input": np.random.RandomState(i).randn(1, 3, 16, 16).astype(np.float32)}
                               for i in range(4)])

        def get_next(self):
            return next(self.items, None)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), "/tmp/mlrc-fuzz-seed.onnx", opset_version=13, input_names=["input"])
    quantize_static("/tmp/mlrc-fuzz-seed.onnx", str(seeds / "seed_qdq.onnx"), Random(), quant_format=QuantFormat.QDQ,
                    per_channel=True)
    for f in sorted(seeds.glob("*")):
        print(f"{f.name}: {f.stat().st_size} bytes")


def main():
    fuzz_seeds()
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()
    photos = {p: np.fromfile(FIX / "inputs" / f"{p}.f16", dtype="<f2").astype(np.float32).reshape(3, 224, 224)
              for p in ["chelsea", "coffee"]}
    calib = sorted((ROOT / "tools" / "calibration-photos").glob("*.jpg"))
    bn_images = torch.from_numpy(np.stack([photo_input(p, 224) for p in calib] + list(photos.values())))
    specs = {name: (i, make) for i, (name, make, _) in enumerate(fam.specs())}
    manifest = [m for m in json.load(open(FIX / "manifest.json")) if not m.get("onnx_fixture")]
    for name, family, opset, exporter in EXPORTS:
        i, make = specs[family]
        torch.manual_seed(1000 + i)
        model = calibrate_bn_(make(), bn_images, 2000 + i).eval()
        path = OUT / f"{name}.onnx"
        export(model, torch.from_numpy(photos["chelsea"])[None], path, opset, exporter)
        for photo, y in zip(photos, ort_run(path, photos.values())):
            y.astype("<f4").tofile(FIX / "expected" / f"{name}.{photo}.f32")
        entry = {"name": name, "checkpoint": f"onnx/{name}.onnx", "classes": int(y.size), "onnx_fixture": True}
        if name in HARD_INT8:
            entry["int8_min_cosine"] = HARD_INT8[name]
        manifest.append(entry)
        print(f"{name}: {path.stat().st_size} bytes")
    json.dump(manifest, open(FIX / "manifest.json", "w"), indent=1)
    open(FIX / "manifest.json", "a").write("\n")

    # A topology no builder knows, at 160x128: branches, concat, a residual over two blocks, an SE gate, dilation.
    torch.manual_seed(7)
    hw = (160, 128)
    odd = calibrate_bn_(OddNet(), torch.from_numpy(np.stack([crop(p, hw) for p in calib])), 7).eval()
    x = crop(FIX / "images" / "chelsea.jpg", hw)
    export(odd, torch.from_numpy(x)[None], OUT / "odd_topology_160x128.onnx", 13, "torchscript")
    x.astype("<f2").tofile(OUT / "odd_topology_160x128.input.f16")
    xr = x.astype("<f2").astype(np.float32)  # the committed input, as the test reads it
    ort_run(OUT / "odd_topology_160x128.onnx", [xr])[0].astype("<f4").tofile(OUT / "odd_topology_160x128.expected.f32")

    # ONNX Runtime's static quantization (QDQ, per-channel int8 weights, uint8 activations) of the ResNet fixture.
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Photos(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"input": photo_input(p, 224)[None]} for p in calib])

        def get_next(self):
            return next(self.items, None)

    src = OUT / "onnx_resnet_op13_torchscript.onnx"
    qdq = OUT / "qdq_resnet_uint8.onnx"
    quantize_static(str(src), str(qdq), Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    for photo, y in zip(photos, ort_run(qdq, photos.values())):
        y.astype("<f4").tofile(OUT / f"qdq_resnet_uint8.{photo}.ort_int8.f32")
    print(f"{qdq.name}: {qdq.stat().st_size} bytes")


if __name__ == "__main__":
    main()
