"""Tests for autograder.trusted.models: a saved model file judged from its headers before any data is read."""
from __future__ import annotations

import time
import zipfile

import numpy as np
import pytest

from autograder.trusted.models import MAX_FILE_BYTES, ModelRefused, check_model_file, load_checked
from model_fixtures import parameters, write_bomb


def saved(tmp_path, name="model.npz", compressed=False, **changes):
    params = {**parameters(), **changes}
    path = tmp_path / name
    (np.savez_compressed if compressed else np.savez)(path, **{k: v for k, v in params.items() if v is not None})
    return path


@pytest.mark.parametrize("dtype", [np.float32, np.float64, ">f8"])
def test_a_model_as_the_notebooks_save_it_is_accepted_with_its_declared_shapes(tmp_path, dtype):
    """Are float32 and float64 parameters of shapes (3072, H), (H,), (H, 10), (10,) accepted, compressed or not?"""
    params = {key: value.astype(dtype) for key, value in parameters(hidden=7).items()}
    for compressed in (False, True):
        path = tmp_path / f"m{compressed}.npz"
        (np.savez_compressed if compressed else np.savez)(path, **params)
        assert check_model_file(path) == {"W1": ((3072, 7), np.dtype(dtype).str), "b1": ((7,), np.dtype(dtype).str),
                                          "W2": ((7, 10), np.dtype(dtype).str), "b2": ((10,), np.dtype(dtype).str)}
        assert all(np.array_equal(load_checked(path)[key], params[key]) for key in params)


@pytest.mark.parametrize("changes, reason", [
    ({"W1": np.zeros((3072, 5), dtype=np.longdouble)}, "W1 is of dtype float128; parameters must be float32 or float64"),
    ({"b1": np.zeros(5, dtype=np.float16)}, "b1 is of dtype float16"),
    ({"b2": np.zeros(10, dtype=np.int64)}, "b2 is of dtype int64"),
    ({"W2": np.zeros((5, 10), dtype=np.complex128)}, "W2 is of dtype complex128"),
    ({"b1": np.array([object()] * 5)}, "b1 is of dtype object"),
    ({"b1": np.zeros(6)}, "saw W1 (3072, 5), b1 (6,), W2 (5, 10), b2 (10,)"),
    ({"W1": np.zeros((6, 5))}, "expected W1 (3072, H), b1 (H,), W2 (H, 10), b2 (10,) with 1 <= H <= 4096"),
    ({"W1": np.zeros((3072, 4097)), "b1": np.zeros(4097), "W2": np.zeros((4097, 10))}, "saw W1 (3072, 4097)"),
    ({"W1": np.zeros((3072, 5, 1))}, "W1 has 3 dimensions"),
    ({"b2": None}, "lacks b2: save every parameter"),
])
def test_a_model_that_is_not_a_two_layer_net_is_refused_with_the_reason(tmp_path, changes, reason):
    """Is a file with a parameter of another dtype, shape or number of dimensions, or one missing, refused so?"""
    with pytest.raises(ModelRefused, match="model.npz") as refused:
        check_model_file(saved(tmp_path, **changes))
    assert reason in str(refused.value)


def test_a_member_that_declares_gigabytes_is_refused_from_its_header(tmp_path):
    """Is a small file whose b1 header declares 2 GiB refused at once, having read only headers?"""
    path = write_bomb(tmp_path / "bomb.npz", 2 ** 20, declared=(2 ** 29,))
    start = time.perf_counter()
    with pytest.raises(ModelRefused, match=r"b1 declares shape \(536870912,\) \(2048 MiB\), larger than any parameter"):
        check_model_file(path)
    assert time.perf_counter() - start < 1.0


def test_a_member_that_decompresses_to_more_than_its_shape_needs_is_refused(tmp_path):
    """Is a b1 of the right shape whose member decompresses to 64 MiB refused from the zip's declared size?"""
    path = write_bomb(tmp_path / "bomb.npz", 64 * 2 ** 20, declared=(50,))
    assert path.stat().st_size < 2 ** 20
    with pytest.raises(ModelRefused, match="b1 declares 67108864 bytes once decompressed, more than an array of shape"):
        check_model_file(path)


def test_files_that_are_not_archives_or_too_large_are_refused(tmp_path):
    """Are a non-zip, a file over the size limit (sparse) and an archive of many members refused?"""
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ModelRefused, match="not an .npz archive"):
        check_model_file(tmp_path / "text.npz")
    with open(tmp_path / "huge.npz", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ModelRefused, match="larger than the 128 MiB"):
        check_model_file(tmp_path / "huge.npz")
    with zipfile.ZipFile(tmp_path / "many.npz", "w") as archive:
        for number in range(65):
            archive.writestr(f"{number}.npy", b"")
    with pytest.raises(ModelRefused, match="holds 65 arrays"):
        check_model_file(tmp_path / "many.npz")
