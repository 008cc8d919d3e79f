"""Writes PyTorch's logits for a fixture network under preprocessing other than ImageNet's defaults, computed with
torchvision's own transforms on the PIL image (as a training script's validation transform does):

    python tools/make_preprocessing_fixtures.py

For each case of Tests/Fixtures/preprocessing.json (the quantize flags and the torchvision transform they stand
for): Tests/Fixtures/expected/preprocessing_CASE.PHOTO.f32. The tests convert the same checkpoint with those flags
and compare what mlrc_classify_jpeg returns on the JPEG itself. Needs torch and torchvision (CI does not)."""
import json
import pathlib
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import reference_models as R  # noqa: E402

FIX = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures"
SOURCE = "checkpoints/hsnet_small_zip.pth"
# The same net with its classifier scaled down, so that its logits (a few units, as a trained net's) give
# probabilities that are not all 0 or 1 and mlrc_classify_jpeg's output shows the logits.
CHECKPOINT = "checkpoints/preprocessing_hsnet.pth"
FC_SCALE = 0.01
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
CASES = {
    # name: (quantize flags, torchvision transform)
    "mean05": (["--mean", "0.5,0.5,0.5", "--std", "0.5,0.5,0.5"],
               T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])),
    "bicubic240": (["--resize", "240", "--interpolation", "bicubic"],
                   T.Compose([T.Resize(240, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224),
                              T.ToTensor(), T.Normalize(*IMAGENET)])),
    "nocrop192": (["--no-crop", "--crop", "192", "--mean", "0.5,0.4,0.3", "--std", "0.2,0.25,0.3"],
                  T.Compose([T.Resize((192, 192)), T.ToTensor(), T.Normalize([0.5, 0.4, 0.3], [0.2, 0.25, 0.3])])),
}


def main():
    model = R.HSNet(100, widths=(16, 32, 48, 64), head=128)
    sd = torch.load(FIX / SOURCE, map_location="cpu")
    sd["fc.weight"] = sd["fc.weight"] * FC_SCALE
    sd["fc.bias"] = sd["fc.bias"] * FC_SCALE
    torch.save(sd, FIX / CHECKPOINT)
    model.load_state_dict(sd)
    model = model.double().eval()
    manifest = {"checkpoint": CHECKPOINT, "photos": ["chelsea", "coffee"], "cases": {}}
    for case, (flags, transform) in CASES.items():
        manifest["cases"][case] = flags
        for photo in manifest["photos"]:
            x = transform(Image.open(FIX / "images" / f"{photo}.jpg").convert("RGB"))
            with torch.no_grad():
                y = model(x[None].double())[0].float().numpy()
            y.astype("<f4").tofile(FIX / "expected" / f"preprocessing_{case}.{photo}.f32")
            print(case, photo, "top-1", int(np.argmax(y)), "logit range", float(y.min()), float(y.max()))
    (FIX / "preprocessing.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
