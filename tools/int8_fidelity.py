"""Measures int8 fidelity on real photos: PyTorch fp32 (the checkpoint's own model) against mlrc's int8 (and,
for reference, fp32) .mlrc files, on every JPEG of a directory, preprocessed as torchvision does (resize the
shorter side to 256 with antialiased bilinear, center crop 224, ImageNet mean/std). Prints the top-1 agreement
and the logit cosine (mean, min) of each .mlrc against PyTorch.

    python tools/int8_fidelity.py NET CHECKPOINT IMAGE_DIR LIB MODEL.mlrc [MODEL.mlrc ...]

NET as in tools/peers/export_models.py (efficientnet_lite0 ... lite4, mlrc_atto, convnext_atto, hsnet); LIB:
libmlrc.so. Input size: the net's own (EfficientNet-Lite1: 240, Lite2: 260, ...), resize to size / 0.875."""
import ctypes
import pathlib
import sys

import numpy as np
import torch
from PIL import Image

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peers"))
import export_models  # noqa: E402

MEAN, STD = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)


def preprocess(path, size=224, resize=256):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    s = resize / min(w, h)
    img = img.resize((max(resize, round(w * s)), max(resize, round(h * s))), Image.BILINEAR)
    w, h = img.size
    x0, y0 = (w - size) // 2, (h - size) // 2
    img = img.crop((x0, y0, x0 + size, y0 + size))
    return ((np.asarray(img, np.float32) / 255 - MEAN) / STD).transpose(2, 0, 1)[None].copy()


class MLRC:
    def __init__(self, lib, path):
        self.lib = ctypes.CDLL(lib)
        self.model, self.session = ctypes.c_void_p(), ctypes.c_void_p()
        assert self.lib.mlrc_model_open(path.encode(), ctypes.byref(self.model)) == 0, path
        assert self.lib.mlrc_session_create(self.model, 0, ctypes.byref(self.session)) == 0
        self.classes = self.lib.mlrc_model_num_classes(self.model)

    def run(self, x):
        out = np.zeros(self.classes, np.float32)
        rc = self.lib.mlrc_run(self.session, x.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(x.size),
                               out.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(out.size))
        assert rc == 0
        return out


SIZES = {"efficientnet_lite1": 240, "efficientnet_lite2": 260, "efficientnet_lite3": 280, "efficientnet_lite4": 300}


def main(net, checkpoint, image_dir, lib, *models):
    torch_model = export_models.build(net, checkpoint)
    size = SIZES.get(net, 224)
    runners = [(m, MLRC(lib, m)) for m in models]
    files = sorted(p for p in pathlib.Path(image_dir).iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    stats = {m: ([], []) for m in models}
    for f in files:
        x = preprocess(f, size, round(size / 0.875))
        with torch.no_grad():
            ref = torch_model(torch.from_numpy(x)).numpy()[0].astype(np.float64)
        for m, r in runners:
            y = r.run(x).astype(np.float64)
            stats[m][0].append(int(np.argmax(y) == np.argmax(ref)))
            stats[m][1].append(float(ref @ y / np.sqrt((ref @ ref) * (y @ y))))
    print(f"{net}: {len(files)} crops from {image_dir}, against PyTorch fp32")
    for m in models:
        agree, cos = stats[m]
        print(f"  {pathlib.Path(m).name}: top-1 agreement {100 * np.mean(agree):.1f}% ({sum(agree)}/{len(agree)}), "
              f"logit cosine mean {np.mean(cos):.4f} min {np.min(cos):.4f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
