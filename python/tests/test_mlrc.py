"""The mlrc package against the installed library: every call, errors as exceptions, threads sharing a model,
and logits against PyTorch's for preprocessing other than ImageNet's.

Environment (make test-python sets it): MLRC_LIBRARY (the installed libmlrc.so.0), MLRC_TEST_MODEL (the default
int8 EfficientNet-Lite0), MLRC_TEST_FIXTURES (Tests/Fixtures), MLRC_TEST_MODELS (the fp32 fixture models quantize
wrote, and preprocessing/CASE.mlrc)."""
import concurrent.futures
import json
import os
import pathlib
import threading

import numpy as np
import pytest

import mlrc

FIXTURES = pathlib.Path(os.environ.get("MLRC_TEST_FIXTURES", "Tests/Fixtures"))
MODELS = pathlib.Path(os.environ.get("MLRC_TEST_MODELS", ".build-test/models"))
DEFAULT = os.environ.get("MLRC_TEST_MODEL", ".build-model/default.mlrc")
PHOTOS = [FIXTURES / "images" / "chelsea.jpg", FIXTURES / "images" / "coffee.jpg"]
CAT_CLASSES = range(281, 286)  # ImageNet's domestic cats
ESPRESSO_OR_CUP = (967, 968)


@pytest.fixture(scope="module")
def model():
    with mlrc.Model(DEFAULT) as m:
        yield m


def rgb_of(path):
    from PIL import Image
    return np.asarray(Image.open(path).convert("RGB"))


def test_version_is_the_headers():
    header = (FIXTURES.parent.parent / "include" / "mlrc.h").read_text()
    line = next(line for line in header.splitlines() if line.startswith("#define MLRC_VERSION "))
    assert mlrc.version() == line.split('"')[1] == mlrc.__version__
    assert mlrc.library_path()


def test_model_metadata(model):
    assert model.num_classes == 1000 == len(model.labels)
    assert model.labels[285] == "Egyptian cat"
    assert model.input_shape == (3, 224, 224)
    assert model.architecture == "efficientnet_lite0"
    p = model.preprocessing
    assert p["crop"] is True and p["height"] == p["width"] == 224 and p["interpolation"] == "bilinear"
    assert p["mean"] == pytest.approx([0.485, 0.456, 0.406]) and p["std"] == pytest.approx([0.229, 0.224, 0.225])
    assert "efficientnet_lite0" in repr(model)


def test_classify_path_bytes_and_array_agree(model):
    s = model.session(threads=1)
    by_path = s.classify(PHOTOS[0])
    by_str = s.classify(str(PHOTOS[0]), top=5)
    by_bytes = s.classify(PHOTOS[0].read_bytes())
    assert by_path == by_str == by_bytes
    assert len(by_path) == 5 and by_path[0].index in CAT_CLASSES
    assert all(a.probability >= b.probability for a, b in zip(by_path, by_path[1:]))
    assert by_path[0].label == model.labels[by_path[0].index]
    # The decoded pixels as an array: the same photo through mlrc_classify_rgb (the decoders may differ slightly).
    by_array = s.classify(rgb_of(PHOTOS[0]), top=1)
    assert by_array[0].index in CAT_CLASSES
    # A strided view (every other column) and a non-contiguous array are accepted.
    assert s.classify(np.asfortranarray(rgb_of(PHOTOS[1])), top=1)[0].index in ESPRESSO_OR_CUP
    assert s.classify(rgb_of(PHOTOS[1])[:, ::2], top=1)[0].index in range(1000)
    s.close()


def test_model_classify_uses_a_session_per_thread(model):
    assert model.classify(PHOTOS[1], top=1)[0].index in ESPRESSO_OR_CUP


def test_run_matches_pytorch():
    """fp32 fixture models through mlrc_run against PyTorch's logits on the same preprocessed input."""
    names = (MODELS / "list.txt").read_text().split()[:4]
    assert names
    for name in names:
        m = mlrc.Model(MODELS / f"{name}.mlrc")
        c, h, w = m.input_shape
        for photo in ("chelsea", "coffee"):
            x = np.fromfile(FIXTURES / "inputs" / f"{photo}.f16", dtype="<f2").astype(np.float32)
            expected = np.fromfile(FIXTURES / "expected" / f"{name}.{photo}.f32", dtype="<f4")
            logits = m.run(x.reshape(c, h, w))
            assert logits.dtype == np.float32 and logits.shape == (m.num_classes,)
            assert np.abs(logits - expected).max() <= 1e-3 * max(1.0, np.abs(expected).max()), name
            # 1xCxHxW and a plain buffer of the same floats give the same logits.
            assert np.array_equal(m.run(x.reshape(1, c, h, w)), logits)
            assert np.array_equal(m.session(1).run(x.tobytes()), m.session(1).run(x))
        m.close()


@pytest.mark.parametrize("case", sorted(json.loads((FIXTURES / "preprocessing.json").read_text())["cases"]))
def test_own_preprocessing_matches_pytorch(case):
    """A model converted with --mean/--std/--resize/--interpolation/--no-crop: mlrc_classify_jpeg on the JPEG gives
    PyTorch's probabilities (and so its logits, up to a constant) with torchvision's transforms."""
    m = mlrc.Model(MODELS / "preprocessing" / f"{case}.mlrc")
    flags = json.loads((FIXTURES / "preprocessing.json").read_text())["cases"][case]
    if "--interpolation" in flags:
        assert m.preprocessing["interpolation"] == flags[flags.index("--interpolation") + 1]
    assert m.preprocessing["crop"] == ("--no-crop" not in flags)
    for photo in ("chelsea", "coffee"):
        y = np.fromfile(FIXTURES / "expected" / f"preprocessing_{case}.{photo}.f32", dtype="<f4").astype(np.float64)
        p = np.exp(y - y.max())
        p /= p.sum()
        got = np.zeros(m.num_classes)
        for q in m.classify(FIXTURES / "images" / f"{photo}.jpg", top=m.num_classes):
            got[q.index] = q.probability
        logits = np.log(got)
        assert np.abs((logits - logits.mean()) - (y - y.mean())).max() < 5e-3 * np.abs(y).max(), (case, photo)
        assert np.abs(got - p).max() < 1e-3


def test_errors_are_exceptions(tmp_path, model):
    with pytest.raises(mlrc.Error) as e:
        mlrc.Model(tmp_path / "missing.mlrc")
    assert e.value.status == 2 and e.value.status_name == "IO" and "missing.mlrc" in str(e.value)
    good = pathlib.Path(DEFAULT).read_bytes()
    with pytest.raises(mlrc.Error) as e:
        mlrc.Model(data=good[: len(good) // 2])
    assert e.value.status == 3
    with pytest.raises(mlrc.Error) as e:
        mlrc.Model(data=b"not a model")
    assert e.value.status == 3
    s = model.session(1)
    with pytest.raises(mlrc.Error) as e:
        s.classify(b"\xff\xd8 not a jpeg")
    assert e.value.status == 5 and e.value.message
    with pytest.raises(mlrc.Error) as e:
        s.classify(tmp_path / "missing.jpg")
    assert e.value.status == 2
    fifo = tmp_path / "fifo.jpg"
    os.mkfifo(fifo)
    for bad in (fifo, tmp_path):  # refused at once, not read (a FIFO with no writer would block forever)
        with pytest.raises(mlrc.Error) as e:
            s.classify(bad)
        assert e.value.status == 2 and "not a regular file" in e.value.message
    with pytest.raises(mlrc.Error) as e:
        mlrc.Model(fifo)
    assert e.value.status == 2
    for top in (0, 1001):
        with pytest.raises(mlrc.Error) as e:
            s.classify(PHOTOS[0], top=top)
        assert e.value.status == 1
    with pytest.raises(mlrc.Error):
        s.classify(np.zeros((32, 32, 4), np.uint8))
    with pytest.raises(mlrc.Error):
        s.classify(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(mlrc.Error) as e:
        s.classify(np.zeros((8, 8, 3), np.uint8))  # under the 16x16 minimum
    assert e.value.status == 5
    with pytest.raises(mlrc.Error) as e:
        s.run(np.zeros(10, np.float32))
    assert e.value.status == 1 and "10" in e.value.message
    with pytest.raises(mlrc.Error):
        model.session(threads=-1)
    with pytest.raises(mlrc.Error):
        mlrc.set_isa("no-such-isa")
    s.close()
    with pytest.raises(mlrc.Error):
        s.classify(PHOTOS[0])
    closed = mlrc.Model(DEFAULT)
    closed.close()
    with pytest.raises(mlrc.Error):
        closed.session()


def test_image_limit_and_isa(model):
    mlrc.set_max_image_pixels(100 * 100)
    try:
        with pytest.raises(mlrc.Error) as e:
            model.session(1).classify(PHOTOS[0])
        assert e.value.status == 5
    finally:
        mlrc.set_max_image_pixels(64 << 20)
    auto = model.session(1).classify(PHOTOS[0])
    mlrc.set_isa("ref")
    try:
        assert mlrc.isa_level().startswith("ref")
        ref = model.session(1).classify(PHOTOS[0])
    finally:
        mlrc.set_isa("auto")
    # The int8 kernels equal the reference bit for bit, but the layers kept in fp32 round differently with FMA,
    # which can move a requantized value by one step: the same ranking, probabilities within a few tenths of a %.
    assert [p.index for p in ref] == [p.index for p in auto]
    assert all(abs(a.probability - b.probability) < 1e-2 for a, b in zip(ref, auto))


def test_four_threads_share_a_model(model):
    photos = [p.read_bytes() for p in PHOTOS] * 8
    alone = [model.session(1).classify(p) for p in photos[:2]]
    barrier = threading.Barrier(4)

    def worker(i):
        barrier.wait()
        out = []
        own = model.session(threads=1)
        for j, p in enumerate(photos):
            # Half through the thread's own session, half through the model's per-thread one.
            out.append(own.classify(p) if (i + j) % 2 else model.classify(p))
        own.close()
        return out

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(worker, range(4)))
    for out in results:
        for j, preds in enumerate(out):
            assert [p.index for p in preds] == [p.index for p in alone[j % 2]]
            assert all(abs(a.probability - b.probability) < 1e-6 for a, b in zip(preds, alone[j % 2]))


def test_a_session_refuses_a_second_thread(model):
    s = model.session(threads=1)
    refused = []
    good = []

    def hammer():
        for _ in range(20):
            try:
                good.append(s.classify(PHOTOS[0], top=1)[0].index)
            except mlrc.Error as e:
                refused.append(e.status)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(refused) <= {1}  # refused as MLRC_ERR_ARGUMENT, never wrong
    assert good and all(i in CAT_CLASSES for i in good)
