"""Classify every JPEG under a directory with a thread pool sharing one model; one JSON line per image, in sorted
path order (the same lines as `mlrc-infer --json --top K DIR`).

    python classify_dir.py MODEL.mlrc DIR [--workers N] [--top K]"""
import argparse
import concurrent.futures
import json
import os
import sys

import mlrc


def jpegs(root):
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs.sort()
        found += [os.path.join(folder, f) for f in files if f.lower().endswith((".jpg", ".jpeg"))]
    return sorted(found)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("dir")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--top", type=int, default=5)
    a = ap.parse_args()
    model = mlrc.Model(a.model)

    def classify(path):
        try:
            # Model.classify gives each pool thread a session of its own; ctypes releases the GIL meanwhile.
            top = model.classify(path, top=a.top)
            return {"image": path, "top": [p._asdict() for p in top]}
        except mlrc.Error as e:
            return {"image": path, "error": str(e)}

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(a.workers) as pool:
        for result in pool.map(classify, jpegs(a.dir)):  # map keeps input order
            failed += "error" in result
            print(json.dumps(result))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
