"""Reads Tests/Fixtures/manifest.json for the Makefile: with one argument, the fixture names; with a
name, that fixture's checkpoint path (or 'download' for weights fetched at test time)."""
import json
import sys

manifest = json.load(open(sys.argv[1]))
if len(sys.argv) == 2:
    print(" ".join(m["name"] for m in manifest))
else:
    ckpt = next(m["checkpoint"] for m in manifest if m["name"] == sys.argv[2])
    print("download" if ckpt.startswith("download:") else ckpt)
