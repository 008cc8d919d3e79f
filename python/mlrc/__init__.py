"""Python bindings for libmlrc (ctypes: no compiled extension).

    model = mlrc.Model("model.mlrc")
    for p in model.classify("cat.jpg", top=5):
        print(p.probability, p.index, p.label)

A Model is immutable and may be shared by any number of threads. A Session is one thread's scratch memory;
Model.classify and Model.run use a session of the calling thread's own. Failures raise mlrc.Error.
ctypes releases the GIL during each library call, so threads classify in parallel.
"""

import ctypes
import json
import os
import threading
from collections import namedtuple

__all__ = [
    "Error", "Model", "Session", "Prediction", "version", "isa_level", "set_isa", "set_max_image_pixels",
    "library_path",
]

__version__ = "0.1.0"

Prediction = namedtuple("Prediction", ["index", "label", "probability"])

_STATUS_NAMES = {
    1: "ARGUMENT", 2: "IO", 3: "FORMAT", 4: "VERSION", 5: "IMAGE", 6: "MEMORY", 7: "INTERNAL",
}


class Error(Exception):
    """A failed library call: `status` is the mlrc_status code, `status_name` its name, `message` the detail."""

    def __init__(self, status, message):
        self.status = status
        self.status_name = _STATUS_NAMES.get(status, "UNKNOWN")
        self.message = message
        super().__init__(f"{message} (MLRC_ERR_{self.status_name})" if message else f"MLRC_ERR_{self.status_name}")


class _CPrediction(ctypes.Structure):
    _fields_ = [("index", ctypes.c_int32), ("probability", ctypes.c_float), ("label", ctypes.c_char_p)]


def _candidates():
    env = os.environ.get("MLRC_LIBRARY")
    if env:
        yield env
        return
    yield "libmlrc.so.0"  # the loader's own path: ldconfig, LD_LIBRARY_PATH
    here = os.path.dirname(os.path.abspath(__file__))
    for prefix in ("/usr/local/lib", "/usr/lib"):
        yield os.path.join(prefix, "libmlrc.so.0")
    # A package used from a checkout (python/mlrc beside .build/release).
    yield os.path.join(here, "..", "..", ".build", "release", "libmlrc.so")


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError(
        "mlrc: cannot load libmlrc.so (install it with `make install`, or set MLRC_LIBRARY to its path)"
        + ("; " + "; ".join(errors) if errors else ""))


_lib, _lib_path = _load()


def _declare(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_p = ctypes.c_void_p
_version = _declare("mlrc_version", ctypes.c_char_p)
_last_error = _declare("mlrc_last_error", ctypes.c_char_p)
_status_string = _declare("mlrc_status_string", ctypes.c_char_p, ctypes.c_int)
_model_open = _declare("mlrc_model_open", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_p))
_model_open_memory = _declare("mlrc_model_open_memory", ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t,
                              ctypes.POINTER(_p))
_model_close = _declare("mlrc_model_close", None, _p)
_model_num_classes = _declare("mlrc_model_num_classes", ctypes.c_int32, _p)
_model_label = _declare("mlrc_model_label", ctypes.c_char_p, _p, ctypes.c_int32)
_model_input_shape = _declare("mlrc_model_input_shape", ctypes.c_int, _p, ctypes.POINTER(ctypes.c_int32),
                              ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_int32))
_model_architecture = _declare("mlrc_model_architecture", ctypes.c_char_p, _p)
_model_preprocessing = _declare("mlrc_model_preprocessing", ctypes.c_char_p, _p)
_session_create = _declare("mlrc_session_create", ctypes.c_int, _p, ctypes.c_int32, ctypes.POINTER(_p))
_session_destroy = _declare("mlrc_session_destroy", None, _p)
_session_error = _declare("mlrc_session_error", ctypes.c_char_p, _p)
_run = _declare("mlrc_run", ctypes.c_int, _p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t)
_classify_rgb = _declare("mlrc_classify_rgb", ctypes.c_int, _p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32,
                         ctypes.c_int32, ctypes.POINTER(_CPrediction), ctypes.c_int32)
_classify_jpeg = _declare("mlrc_classify_jpeg", ctypes.c_int, _p, ctypes.c_char_p, ctypes.c_size_t,
                          ctypes.POINTER(_CPrediction), ctypes.c_int32)
_set_isa = _declare("mlrc_set_isa", ctypes.c_int, ctypes.c_char_p)
_isa_level = _declare("mlrc_isa_level", ctypes.c_char_p)
_set_max_image_pixels = _declare("mlrc_set_max_image_pixels", None, ctypes.c_uint64)


def _check(status, session=None):
    if status != 0:
        detail = _session_error(session) if session else _last_error()
        raise Error(status, (detail or _status_string(status) or b"").decode("utf-8", "replace"))


def version():
    """The loaded library's version (MLRC_VERSION)."""
    return _version().decode()


def library_path():
    """Where the library was loaded from."""
    return _lib_path


def isa_level():
    """The kernels' ISA level in force and the CPU features it uses, e.g. "avx2 (sse4.2 avx2 fma)"."""
    return _isa_level().decode()


def set_isa(level):
    """Limits the kernels of sessions created afterwards: "auto", "ref", "avx2", "avxvnni", "avx512", "neon",
    "dotprod". Process-wide."""
    _check(_set_isa(str(level).encode()))


def set_max_image_pixels(pixels):
    """Images with more pixels are refused before decoding allocates (default 64 Mi). Process-wide."""
    if not isinstance(pixels, int) or pixels < 0:
        raise Error(1, f"max image pixels must be a non-negative int, not {pixels!r}")
    _set_max_image_pixels(pixels)


def _default_model_path():
    env = os.environ.get("MLRC_MODEL")
    if env:
        return env
    libdir = os.path.dirname(os.path.realpath(_lib_path)) if os.sep in _lib_path else None
    candidates = [os.path.join(p, "share", "mlrc", "default.mlrc") for p in ("/usr/local", "/usr")]
    if libdir:
        candidates.insert(0, os.path.join(libdir, "..", "share", "mlrc", "default.mlrc"))
        candidates.append(os.path.join(libdir, "..", "..", ".build-model", "default.mlrc"))
    for c in candidates:
        if os.path.isfile(c):
            return os.path.normpath(c)
    raise Error(2, "no default model: pass a path, set MLRC_MODEL, or install one with `make install`")


class _Handle:
    """A library object owned by a Python one: released by close(), a with block or garbage collection, and refused
    once released. Subclasses name what they are and the function that releases them."""
    _handle = None
    _kind = "object"

    @staticmethod
    def _release(handle):
        raise NotImplementedError

    def _get(self):
        if self._handle is None:
            raise Error(1, f"the {self._kind} is closed")
        return self._handle

    def close(self):
        if self._handle is not None:
            type(self)._release(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Model(_Handle):
    """An opened .mlrc model (mapped read-only). `Model(path)`, `Model(data=bytes)`, or `Model()` for the default
    model ($MLRC_MODEL, then the installed share/mlrc/default.mlrc). close() releases it; sessions still open keep
    it alive until they close."""
    _kind = "model"
    _release = staticmethod(_model_close)

    def __init__(self, path=None, *, data=None):
        handle = _p()
        if data is not None:
            if path is not None:
                raise Error(1, "pass a path or data, not both")
            data = bytes(data)
            _check(_model_open_memory(data, len(data), ctypes.byref(handle)))
        else:
            path = _default_model_path() if path is None else os.fspath(path)
            if isinstance(path, str):
                path = path.encode()
            _check(_model_open(path, ctypes.byref(handle)))
        self._handle = handle
        self._local = threading.local()
        self.num_classes = _model_num_classes(handle)
        self.labels = [_model_label(handle, i).decode("utf-8", "replace") for i in range(self.num_classes)]
        c, h, w = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
        _check(_model_input_shape(handle, ctypes.byref(c), ctypes.byref(h), ctypes.byref(w)))
        self.input_shape = (c.value, h.value, w.value)
        self.architecture = _model_architecture(handle).decode()
        self.preprocessing = json.loads(_model_preprocessing(handle).decode())

    def session(self, threads=0):
        """A session for one thread at a time; `threads` is its kernel thread count (0 = all cores)."""
        return Session(self, threads)

    def _thread_session(self):
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = Session(self, 0)
        return s

    def classify(self, image, top=5):
        """Top predictions for a JPEG path, JPEG bytes, or an HxWx3 uint8 RGB array, best first."""
        return self._thread_session().classify(image, top)

    def run(self, x):
        """Logits for one preprocessed float32 CHW (or 1xCxHxW) input."""
        return self._thread_session().run(x)

    def __repr__(self):
        return f"<mlrc.Model {self.architecture} {self.input_shape} {self.num_classes} classes>"


def _as_buffer(x, dtype_name, itemsize):
    """(pointer, element count, keep-alive) for a C-contiguous buffer of the given type: a numpy array (converted
    when needed), or any object with the buffer protocol."""
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None and not isinstance(x, (bytes, bytearray, memoryview)):
        a = np.ascontiguousarray(x, dtype=dtype_name)
        return a.ctypes.data_as(ctypes.c_void_p), a.size, a
    m = memoryview(x).cast("B")
    if m.nbytes % itemsize:
        raise Error(1, f"buffer of {m.nbytes} bytes is not a whole number of {dtype_name}")
    if m.readonly:
        m = memoryview(bytearray(m))
    holder = (ctypes.c_char * m.nbytes).from_buffer(m)
    return ctypes.cast(holder, ctypes.c_void_p), m.nbytes // itemsize, (m, holder)


_MAX_IMAGE_FILE = 512 << 20


def _read_image_file(path):
    """A regular file's bytes; a FIFO or device is refused at once instead of blocking, a huge file before it is
    read."""
    import stat
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise Error(2, f"{name}: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Error(2, f"{name}: not a regular file")
        if st.st_size > _MAX_IMAGE_FILE:
            raise Error(5, f"{name}: {st.st_size} bytes is more than an image file may have ({_MAX_IMAGE_FILE})")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise Error(2, f"{name}: {e.strerror}") from e
    finally:
        os.close(fd)


class Session(_Handle):
    """One thread's scratch memory for a model. Use each session from one thread at a time (a second thread's call
    is refused with MLRC_ERR_ARGUMENT); Model.classify gives every thread its own."""
    _kind = "session"
    _release = staticmethod(_session_destroy)

    def __init__(self, model, threads=0):
        if not isinstance(threads, int):
            raise Error(1, f"threads must be an int, not {threads!r}")
        handle = _p()
        _check(_session_create(model._get(), threads, ctypes.byref(handle)))
        self._handle = handle
        self.model = model  # labels and shape; the library keeps the model itself alive

    def classify(self, image, top=5):
        """Top predictions for a JPEG path (str or PathLike), JPEG bytes, or an HxWx3 uint8 RGB array."""
        h = self._get()
        if not isinstance(top, int):
            raise Error(1, f"top must be an int, not {top!r}")
        out = (_CPrediction * max(top, 1))()
        if isinstance(image, (str, os.PathLike)):
            image = _read_image_file(image)
        if isinstance(image, (bytes, bytearray, memoryview)):
            data = bytes(image)
            _check(_classify_jpeg(h, data, len(data), out, top), h)
        else:
            try:
                import numpy as np
            except ImportError as e:
                raise Error(1, "an image that is not a path or bytes must be a numpy HxWx3 uint8 array") from e
            a = np.asarray(image)
            if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
                raise Error(1, f"an RGB image must be an HxWx3 uint8 array, not {a.dtype} {a.shape}")
            if a.strides[2] != 1 or a.strides[1] != 3 or a.strides[0] < 3 * a.shape[1]:
                a = np.ascontiguousarray(a)
            height, width = a.shape[0], a.shape[1]
            if height > 2**31 - 1 or width > 2**31 - 1 or a.strides[0] > 2**31 - 1:
                raise Error(5, f"image {width}x{height} is too large")
            _check(_classify_rgb(h, a.ctypes.data_as(ctypes.c_void_p), width, height, a.strides[0], out, top), h)
        labels = self.model.labels
        return [Prediction(p.index, labels[p.index], p.probability) for p in out[:top]]

    def run(self, x):
        """Logits of one preprocessed float32 input of C*H*W values (CHW or 1xCxHxW): a numpy array when numpy
        is installed, else a list of floats."""
        h = self._get()
        ptr, count, keep = _as_buffer(x, "float32", 4)
        n = self.model.num_classes
        try:
            import numpy as np
            logits = np.empty(n, dtype=np.float32)
            out_ptr = logits.ctypes.data_as(ctypes.c_void_p)
        except ImportError:
            np = None
            logits = (ctypes.c_float * n)()
            out_ptr = ctypes.cast(logits, ctypes.c_void_p)
        _check(_run(h, ptr, count, out_ptr, n), h)
        del keep
        return logits if np is not None else list(logits)

