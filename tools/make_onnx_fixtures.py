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


def main():
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
