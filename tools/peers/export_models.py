"""Exports one network to every peer runtime's format, from the same weights mlrc converts:
ONNX (run by ONNX Runtime and OpenVINO), ONNX Runtime static int8 (QDQ, U8S8, per-channel, reduce_range,
calibrated on real-photo crops), and ncnn (through pnnx). Used by tools/bench.py.

    python tools/peers/export_models.py NAME CHECKPOINT OUT_DIR"""
import pathlib
import sys

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import reference_models as R  # noqa: E402


def build(name, checkpoint):
    """The PyTorch model for a bench network, loaded with the checkpoint's weights."""
    if name.startswith("efficientnet_lite"):
        model = R.efficientnet_lite(name[:len("efficientnet_lite0")].replace("_", "-"))
    elif name.startswith("hsnet"):
        model = R.HSNet(1000)
    elif name in ("mobilenet_v2", "mobilenet_v3_large", "resnet18", "shufflenet_v2_x1_0", "efficientnet_b0"):
        import torchvision.models as tvm
        model = getattr(tvm, name)()
    else:
        size = name.split("_")[1]
        model = R.ConvNeXt(*R.CONVNEXT_SIZES[size], 1000, mlrc=name.startswith("mlrc"))
    sd = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if isinstance(sd, dict) and "model" in sd:
        sd = sd["model"]
    model.load_state_dict(sd)
    return model.eval()


def calibration_crops(n=32, size=224):
    """Real-photo crops (the fixture photos and scikit-image's samples), preprocessed as ImageNet models expect."""
    from PIL import Image
    photos = [Image.open(p).convert("RGB") for p in sorted((HERE.parent.parent / "Tests/Fixtures/images").glob("*.jpg"))]
    try:
        import skimage.data as d
        photos += [Image.fromarray(getattr(d, k)()) for k in ["astronaut", "rocket", "coffee", "chelsea"]]
    except ImportError:
        pass
    rng = np.random.default_rng(0)
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    crops = []
    for i in range(n):
        img = photos[i % len(photos)]
        w, h = img.size
        s = int(min(w, h) * rng.uniform(0.5, 1.0))
        x0, y0 = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
        c = img.crop((x0, y0, x0 + s, y0 + s)).resize((size, size), Image.BILINEAR)
        crops.append(((np.asarray(c, np.float32) / 255 - mean) / std).transpose(2, 0, 1)[None].copy())
    return crops


def export(name, checkpoint, out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = build(name, checkpoint)
    x = torch.zeros(1, 3, 224, 224)
    onnx_path = out / f"{name}.onnx"
    if not onnx_path.exists():
        torch.onnx.export(model, x, str(onnx_path), opset_version=17, input_names=["input"], output_names=["logits"],
                          dynamo=False)
    int8_path = out / f"{name}.int8.onnx"
    if not int8_path.exists():
        from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_static)
        from onnxruntime.quantization.shape_inference import quant_pre_process

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.it = iter([{"input": c} for c in calibration_crops()])

            def get_next(self):
                return next(self.it, None)

        pre = out / f"{name}.pre.onnx"
        quant_pre_process(str(onnx_path), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(int8_path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        pre.unlink()
    ncnn_param = out / f"{name}.ncnn.param"
    if not ncnn_param.exists():
        import pnnx
        work = out / f"pnnx_{name}"
        work.mkdir(exist_ok=True)
        pnnx.export(model, str(work / f"{name}.pt"), (x,))
        for ext in ["ncnn.param", "ncnn.bin"]:
            (work / f"{name}.{ext}").rename(out / f"{name}.{ext}")
    macs = count_macs(model)
    (out / f"{name}.macs").write_text(str(macs))
    print(f"exported {name}: {macs / 1e6:.0f} M MACs")


def count_macs(model):
    total = 0

    def hook(mod, inp, outp):
        nonlocal total
        if isinstance(mod, torch.nn.Conv2d):
            total += outp.numel() * mod.weight[0].numel()
        elif isinstance(mod, torch.nn.Linear):
            total += outp.numel() // outp.shape[-1] * mod.weight.numel()
    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for h in handles:
        h.remove()
    return total


if __name__ == "__main__":
    export(*sys.argv[1:4])
