"""Reads Tests/Fixtures/manifest.json for the Makefile: with one argument, the fixture names; with a
name, that fixture's checkpoint path (or 'download' for weights fetched at test time); with a name and `arch`,
the --arch option the fixture needs (nothing when its names tell); with a name and `int8`, its line in the int8
model list (the name, and the lower logit-cosine bound when the manifest sets one)."""
import json
import sys

manifest = json.load(open(sys.argv[1]))
if len(sys.argv) == 2:
    print(" ".join(m["name"] for m in manifest))
elif len(sys.argv) == 4 and sys.argv[3] == "arch":
    arch = next(m.get("arch") for m in manifest if m["name"] == sys.argv[2])
    print(f"--arch {arch}" if arch else "")
elif len(sys.argv) == 4:  # the int8 list line: the name, and its lower cosine bound when the manifest sets one
    bound = next(m.get("int8_min_cosine") for m in manifest if m["name"] == sys.argv[2])
    print(sys.argv[2] if bound is None else f"{sys.argv[2]} {bound}")
else:
    ckpt = next(m["checkpoint"] for m in manifest if m["name"] == sys.argv[2])
    print("download" if ckpt.startswith("download:") else ckpt)
