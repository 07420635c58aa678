"""Load CIFAR-10 for the notebooks: `load_CIFAR10` and `get_CIFAR10_data` (CS231n style).

Every file is verified before use (see cifar10_files); a missing or damaged
dataset raises `DatasetError` naming the file and the fix, never partial data.
"""
import os
from pathlib import Path

import numpy as np

from .cifar10_files import (DIRNAME, REAL_SPEC, TEST_BATCH, TRAIN_BATCHES, DatasetError,
                            DatasetSpec, read_dataset)

__all__ = ["load_CIFAR10", "get_CIFAR10_data", "find_cifar10_dir", "DatasetError"]

FIX = ("run `bash datasets/get_datasets.sh` from the kit's root (setup.sh does it); outside the kit "
       "(Colab), `python -m nn_helpers.cifar10_fetch --dest datasets/cifar-10-batches-py`; "
       "or set CIFAR10_DIR to a cifar-10-batches-py folder")
# The last place looked: the repo this package sits in (an editable install).
PACKAGE_DATASETS = Path(__file__).resolve().parent.parent / "datasets" / DIRNAME


def find_cifar10_dir(start=None) -> Path:
    """Where the cifar-10-batches-py folder is.

    Looks at env CIFAR10_DIR; then datasets/cifar-10-batches-py in `start` (default:
    the current directory) and each of its parents; then in the repo this package
    sits in. Raises FileNotFoundError naming every place looked at and the fix.
    """
    env = os.environ.get("CIFAR10_DIR")
    if env:
        if Path(env).is_dir():
            return Path(env)
        raise FileNotFoundError(f"CIFAR10_DIR={env} is not a folder. Fix: {FIX}")
    here = Path(start or os.getcwd()).resolve()
    candidates = [p / "datasets" / DIRNAME for p in (here, *here.parents)]
    candidates.append(PACKAGE_DATASETS)
    for path in candidates:
        if path.is_dir():
            return path
    looked = "\n  ".join(str(p) for p in dict.fromkeys(candidates))
    raise FileNotFoundError(f"No CIFAR-10 found (CIFAR10_DIR is unset). Looked in:\n  "
                            f"{looked}\nFix: {FIX}")


def _images(datas, stop: int, dtype, channels_last: bool) -> np.ndarray:
    """The first `stop` rows of the uint8 (n, 3072) batches as images, in one allocation."""
    out = np.empty((stop, 32, 32, 3) if channels_last else (stop, 3, 32, 32), dtype)
    i = 0
    for data in datas:
        k = min(len(data), stop - i)
        if k <= 0:
            break
        images = data[:k].reshape(k, 3, 32, 32)
        out[i:i + k] = images.transpose(0, 2, 3, 1) if channels_last else images
        i += k
    return out


def load_CIFAR10(root=None, dtype=np.float64, spec: DatasetSpec = REAL_SPEC):
    """Load and verify all of CIFAR-10.

    Inputs:
    - root: the cifar-10-batches-py folder; None finds it (find_cifar10_dir).
    - dtype: of the images; float64 like CS231n (so `X -= mean` works), or np.uint8.
    - spec: what the files must hold; the default is the real dataset's pinned checksums.

    Returns (X_train, y_train, X_test, y_test): X of shape (N, 32, 32, 3) (rows
    reshaped (N, 3, 32, 32), then transposed), y int64 of shape (N,); N = 50000, 10000.
    """
    batches = read_dataset(find_cifar10_dir() if root is None else root, spec)
    train = [batches[name] for name in TRAIN_BATCHES]
    n_train = sum(len(y) for _, y in train)
    x_test, y_test = batches[TEST_BATCH]
    return (_images([x for x, _ in train], n_train, dtype, True),
            np.concatenate([y for _, y in train]),
            _images([x_test], len(y_test), dtype, True), y_test.copy())


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000,
                     subtract_mean=True, cifar10_dir=None, dtype=np.float32,
                     spec: DatasetSpec = REAL_SPEC):
    """CIFAR-10 split for training, channels first (CS231n assignment 2 layout).

    Inputs:
    - num_training, num_validation: training images [0, num_training) form X_train,
      the next num_validation form X_val (together at most 50000).
    - num_test: the first num_test test images (at most 10000).
    - subtract_mean: subtract the mean image of X_train (training split only) from all three.
    - cifar10_dir: the cifar-10-batches-py folder; None finds it (find_cifar10_dir).
    - dtype: float dtype of the X arrays.
    - spec: what the files must hold (default: the real dataset, pinned checksums).

    Returns a dict with X_train (num_training, 3, 32, 32), y_train (num_training,),
    X_val, y_val, X_test, y_test likewise; y are int64.
    """
    n_batch = spec.images_per_batch
    sizes = {"num_training": num_training, "num_validation": num_validation,
             "num_test": num_test}
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name}={value!r} must be a non-negative int")
    if num_training + num_validation > len(TRAIN_BATCHES) * n_batch:
        raise ValueError(f"num_training + num_validation = {num_training + num_validation} "
                         f"exceeds the {len(TRAIN_BATCHES) * n_batch} training images")
    if num_test > n_batch:
        raise ValueError(f"num_test={num_test} exceeds the {n_batch} test images")
    if subtract_mean and num_training == 0:
        raise ValueError("subtract_mean=True needs num_training >= 1 to compute the mean image")
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype={dtype!r} must be a float dtype")

    batches = read_dataset(find_cifar10_dir() if cifar10_dir is None else cifar10_dir, spec)
    train = [batches[name] for name in TRAIN_BATCHES]
    stop = num_training + num_validation
    x = _images([d for d, _ in train], stop, dtype, channels_last=False)
    y = np.concatenate([labels for _, labels in train])[:stop]
    x_test, y_test = batches[TEST_BATCH]
    data = {"X_train": x[:num_training], "y_train": y[:num_training],
            "X_val": x[num_training:], "y_val": y[num_training:],
            "X_test": _images([x_test], num_test, dtype, False),
            "y_test": y_test[:num_test].copy()}
    if subtract_mean:
        mean_image = data["X_train"].mean(axis=0, dtype=np.float64).astype(dtype)
        for key in ("X_train", "X_val", "X_test"):
            data[key] -= mean_image
    return data
