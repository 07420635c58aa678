"""What a saved model file may hold, judged from its headers before any of its data is read.

Notebooks 6 and 7 save a TwoLayerNet's parameters with its `save` (`np.savez`). A file is accepted when
it is a zip whose members W1.npy, b1.npy, W2.npy and b2.npy have .npy headers declaring
float32 or float64 arrays of shapes (3072, H), (H,), (H, 10) and (10,), H at most 4096, and
whose declared sizes (uncompressed) are no more than those shapes need. So a float128
model, a hidden layer of a million units or a small file that decompresses to gigabytes is
refused with the reason, having cost a few header reads. The evaluation process
(evaluate.py) checks a file with `check_model_file` before it loads it.
"""
from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

MODEL_KEYS = ("W1", "b1", "W2", "b2")
INPUT_DIM, NUM_CLASSES = 3072, 10   # CIFAR-10's images, flattened, and its classes
MAX_HIDDEN = 4096                   # hidden units; the notebooks use 50 to 500
MAX_FILE_BYTES = 128 * 2 ** 20      # the largest acceptable model (H = 4096 in float64) takes 101 MB
MAX_MEMBERS = 64                    # np.savez writes one member per array
HEADER_BYTES = 2 ** 16              # room for a member's .npy header beside its data


class ModelRefused(ValueError):
    """A saved model file that is not what the notebooks save; the message says what it holds instead."""


def check_model_file(path: Path, input_dim: int = INPUT_DIM, num_classes: int = NUM_CLASSES,
                     max_hidden: int = MAX_HIDDEN) -> dict[str, tuple[tuple[int, ...], str]]:
    """key -> (shape, dtype string) of W1, b1, W2, b2 as their headers declare them, once all are acceptable.

    Raises ModelRefused naming the first thing that is not.
    """
    path = Path(path)
    name = path.name
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ModelRefused(f"{name} is larger than the {MAX_FILE_BYTES / 2 ** 20:.0f} MiB a model of at most "
                           f"{max_hidden} hidden units takes")
    if not zipfile.is_zipfile(path):
        raise ModelRefused(f"{name} is not an .npz archive: save the model with model.save(path)")
    try:
        with zipfile.ZipFile(path) as archive:
            if len(archive.infolist()) > MAX_MEMBERS:
                raise ModelRefused(f"{name} holds {len(archive.infolist())} arrays; a model has {len(MODEL_KEYS)}")
            declared = {key: _declared(archive, name, key) for key in MODEL_KEYS}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ModelRefused(f"{name} is not a readable .npz archive ({error})") from None
    hidden = declared["W1"][0][1] if len(declared["W1"][0]) == 2 else -1
    expected = {"W1": (input_dim, hidden), "b1": (hidden,), "W2": (hidden, num_classes), "b2": (num_classes,)}
    if not 1 <= hidden <= max_hidden or any(declared[key][0] != expected[key] for key in MODEL_KEYS):
        raise ModelRefused(f"{name} does not hold the parameters of a two-layer net for CIFAR-10: expected "
                           f"W1 ({input_dim}, H), b1 (H,), W2 (H, {num_classes}), b2 ({num_classes},) with "
                           f"1 <= H <= {max_hidden}; saw " + ", ".join(f"{key} {declared[key][0]}" for key in MODEL_KEYS))
    return declared


def _declared(archive: zipfile.ZipFile, name: str, key: str) -> tuple[tuple[int, ...], str]:
    """The shape and dtype one member's .npy header declares; refused if its sizes or dtype are not a parameter's."""
    try:
        info = archive.getinfo(f"{key}.npy")
    except KeyError:
        raise ModelRefused(f"{name} lacks {key}: save every parameter (model.save(path) saves all four)") from None
    with archive.open(info) as member:
        try:
            version = npy.read_magic(member)
            read_header = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ModelRefused(f"{name}: {key} has an .npy format version {version} that np.save does not write")
            shape, _, dtype = read_header(member)
        except ValueError as error:
            raise ModelRefused(f"{name}: {key} is not a readable .npy array ({str(error)[:200]})") from None
    if dtype.kind != "f" or dtype.itemsize not in (4, 8) or dtype.hasobject:
        raise ModelRefused(f"{name}: {key} is of dtype {str(dtype)[:40]}; parameters must be float32 or float64")
    if len(shape) > 2:
        raise ModelRefused(f"{name}: {key} has {len(shape)} dimensions; parameters have 1 or 2")
    needed = math.prod(shape) * dtype.itemsize
    if needed > MAX_FILE_BYTES:
        raise ModelRefused(f"{name}: {key} declares shape {shape} ({needed / 2 ** 20:.0f} MiB), larger than any "
                           f"parameter of a two-layer net with at most {MAX_HIDDEN} hidden units")
    if info.file_size > needed + HEADER_BYTES:
        raise ModelRefused(f"{name}: {key} declares {info.file_size} bytes once decompressed, more than an array of "
                           f"shape {shape} needs")
    return tuple(shape), dtype.str


def load_checked(path: Path) -> dict[str, np.ndarray]:
    """W1, b1, W2, b2 of a file `check_model_file` accepted (no pickles)."""
    with np.load(path, allow_pickle=False) as saved:
        return {key: saved[key] for key in MODEL_KEYS}
