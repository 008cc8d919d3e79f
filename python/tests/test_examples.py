"""examples/python over a directory of 200 photos: the thread-pool script and the Dask job on a local cluster give
the same predictions as `mlrc-infer --json` on the same directory."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "python"
FIXTURES = pathlib.Path(os.environ.get("MLRC_TEST_FIXTURES", ROOT / "Tests" / "Fixtures"))
MODEL = os.environ.get("MLRC_TEST_MODEL", str(ROOT / ".build-model" / "default.mlrc"))
INFER = os.environ.get("MLRC_TEST_INFER", str(ROOT / ".build" / "release" / "mlrc-infer"))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """200 JPEGs in two folders (the bundled calibration photos and the fixtures, repeated), and one broken file."""
    sources = sorted((ROOT / "tools" / "calibration-photos").glob("*.jpg")) + sorted((FIXTURES / "images").glob("*.jpg"))
    root = tmp_path_factory.mktemp("photos")
    for i in range(200):
        folder = root / ("a" if i % 2 else "b")
        folder.mkdir(exist_ok=True)
        shutil.copy(sources[i % len(sources)], folder / f"{i:03d}_{sources[i % len(sources)].name}")
    (root / "b" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really")
    return root


def lines(output):
    """image basename -> (top indices, probabilities) or the error."""
    out = {}
    for line in output.splitlines():
        r = json.loads(line)
        key = pathlib.Path(r["image"]).name
        out[key] = ("error",) if "error" in r else ([t["index"] for t in r["top"]], [t["probability"] for t in r["top"]])
    return out


def same(a, b):
    assert a.keys() == b.keys() and len(a) == 201
    for k in a:
        if a[k] == ("error",) or b[k] == ("error",):
            assert a[k] == b[k] == ("error",), k
            continue
        assert a[k][0] == b[k][0], k
        assert all(abs(x - y) < 1e-5 for x, y in zip(a[k][1], b[k][1])), k


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert p.returncode == 1, p.stderr  # the broken file fails, the rest are classified
    return p.stdout


@pytest.fixture(scope="module")
def reference(photos):
    return lines(run([INFER, "--json", "--model", MODEL, str(photos)]))


def test_thread_pool_example(photos, reference):
    same(lines(run([sys.executable, str(EXAMPLES / "classify_dir.py"), MODEL, str(photos), "--workers", "4"])),
         reference)


def test_dask_local_cluster_example(photos, reference):
    pytest.importorskip("dask.distributed")
    out = run([sys.executable, str(EXAMPLES / "dask_classify.py"), MODEL, str(photos), "--workers", "2"])
    same(lines(out), reference)
