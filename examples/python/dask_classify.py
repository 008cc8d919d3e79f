"""The same job on a Dask cluster, for directories that outgrow one machine: the images are split into batches,
each worker process opens the model once (mapped, shared by its threads) and classifies its batches. Without
--scheduler a local cluster of --workers processes is started; with --scheduler HOST:PORT the job runs on an
existing cluster whose workers have mlrc installed and can read the model and images at the same paths.

    python dask_classify.py MODEL.mlrc DIR [--workers N] [--scheduler HOST:PORT] [--top K]

Prints one JSON line per image in sorted path order, like classify_dir.py and `mlrc-infer --json`."""
import argparse
import json
import os
import sys

from classify_dir import jpegs

_models = {}  # per worker process: path -> mlrc.Model


def classify_batch(model_path, paths, top):
    import mlrc
    model = _models.get(model_path)
    if model is None:
        model = _models[model_path] = mlrc.Model(model_path)
    out = []
    for path in paths:
        try:
            out.append({"image": path, "top": [p._asdict() for p in model.classify(path, top=top)]})
        except mlrc.Error as e:
            out.append({"image": path, "error": str(e)})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("dir")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", help="address of a running Dask scheduler (default: start a local cluster)")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--batch", type=int, default=16)
    a = ap.parse_args()
    from dask.distributed import Client, LocalCluster

    cluster = None
    if a.scheduler:
        client = Client(a.scheduler)
    else:
        # One single-threaded process per worker: each runs its own session on one core.
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    model = os.path.abspath(a.model)
    paths = [os.path.abspath(p) for p in jpegs(a.dir)]
    batches = [paths[i:i + a.batch] for i in range(0, len(paths), a.batch)]
    futures = client.map(classify_batch, [model] * len(batches), batches, [a.top] * len(batches), pure=False)
    failed = 0
    for batch in client.gather(futures):  # in submission order
        for result in batch:
            failed += "error" in result
            print(json.dumps(result))
    client.close()
    if cluster:
        cluster.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
