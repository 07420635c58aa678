"""Tests for nn_helpers.data: the public loader, its splits, root discovery and its errors."""
import pickle
import time

import numpy as np
import pytest

from cifar10_fixtures import N, make_arrays, require_real_dataset, spec_for, write_folder
from nn_helpers import data as data_mod
from nn_helpers.cifar10_files import DIRNAME, TRAIN_BATCHES, read_dataset
from nn_helpers.data import DatasetError, find_cifar10_dir, get_CIFAR10_data, load_CIFAR10


@pytest.fixture
def fixture(tmp_path):
    """A 20-images-per-batch dataset, its arrays and the spec pinning its checksums."""
    arrays = make_arrays(seed=1)
    root = write_folder(tmp_path / "datasets" / DIRNAME, arrays)
    return root, arrays, spec_for(arrays)


def test_load_CIFAR10_gives_channels_last_images_in_batch_order(fixture):
    """Is X_train[i, r, c, ch] the row's value ch*1024 + r*32 + c, with batches 1..5 in order?"""
    root, arrays, spec = fixture
    X_train, y_train, X_test, y_test = load_CIFAR10(root, spec=spec)
    assert X_train.shape == (5 * N, 32, 32, 3) and X_test.shape == (N, 32, 32, 3)
    assert X_train.dtype == np.float64 and y_train.dtype == np.int64
    rows = np.concatenate([arrays[b][0] for b in TRAIN_BATCHES])
    i, r, c, ch = 27, 5, 17, 2
    assert X_train[i, r, c, ch] == rows[i, ch * 1024 + r * 32 + c]
    np.testing.assert_array_equal(X_test.reshape(N, -1, 3).transpose(0, 2, 1).reshape(N, -1),
                                  arrays["test_batch"][0])
    np.testing.assert_array_equal(y_train, np.concatenate([arrays[b][1] for b in TRAIN_BATCHES]))
    np.testing.assert_array_equal(y_test, arrays["test_batch"][1])
    assert load_CIFAR10(root, dtype=np.uint8, spec=spec)[0].dtype == np.uint8


def test_get_CIFAR10_data_splits_and_subtracts_the_training_mean(fixture):
    """Are val = train images [nt, nt+nv), test = the first nt test images, all minus X_train's mean?"""
    root, arrays, spec = fixture
    d = get_CIFAR10_data(60, 15, 7, cifar10_dir=root, spec=spec)
    assert {k: v.shape for k, v in d.items()} == {
        "X_train": (60, 3, 32, 32), "y_train": (60,), "X_val": (15, 3, 32, 32), "y_val": (15,),
        "X_test": (7, 3, 32, 32), "y_test": (7,)}
    assert all(d[k].dtype == np.float32 for k in ("X_train", "X_val", "X_test"))
    rows = np.concatenate([arrays[b][0] for b in TRAIN_BATCHES]).astype(np.float64)
    mean = rows[:60].mean(axis=0).reshape(3, 32, 32)
    np.testing.assert_allclose(d["X_train"], rows[:60].reshape(-1, 3, 32, 32) - mean, atol=1e-4)
    np.testing.assert_allclose(d["X_val"], rows[60:75].reshape(-1, 3, 32, 32) - mean, atol=1e-4)
    np.testing.assert_allclose(d["X_test"], arrays["test_batch"][0][:7].reshape(-1, 3, 32, 32)
                               - mean, atol=1e-4)
    y = np.concatenate([arrays[b][1] for b in TRAIN_BATCHES])
    np.testing.assert_array_equal(d["y_val"], y[60:75])
    raw = get_CIFAR10_data(5, 0, 1, subtract_mean=False, cifar10_dir=root, spec=spec,
                           dtype=np.float64)
    np.testing.assert_array_equal(raw["X_train"], rows[:5].reshape(-1, 3, 32, 32))
    assert raw["X_val"].shape == (0, 3, 32, 32)


@pytest.mark.parametrize("sizes, says", [
    ((90, 11, 1), "num_training \\+ num_validation = 101 exceeds the 100 training images"),
    ((10, 0, 21), "num_test=21 exceeds the 20 test images"),
    ((-1, 0, 1), "num_training=-1 must be a non-negative int"),
    ((0, 5, 1), "subtract_mean=True needs num_training >= 1"),
])
def test_impossible_sizes_are_value_errors(fixture, sizes, says):
    """Do requests beyond what exists raise ValueError saying what exists?"""
    root, _, spec = fixture
    with pytest.raises(ValueError, match=says):
        get_CIFAR10_data(*sizes, cifar10_dir=root, spec=spec)


def _damage(root, how):
    """Damage the fixture folder one way; return the file name that is now wrong."""
    target = root / "data_batch_3"
    good = pickle.load(open(target, "rb"), encoding="latin1")
    if how == "missing file":
        target.unlink()
    elif how == "truncated pickle":
        target.write_bytes(target.read_bytes()[:5000])
    elif how == "garbage bytes":
        target.write_bytes(np.random.default_rng(0).bytes(4000))
    elif how == "wrong shape":
        target.write_bytes(pickle.dumps({**good, "data": good["data"][:, :100]}, protocol=2))
    elif how == "wrong dtype":
        target.write_bytes(pickle.dumps({**good, "data": good["data"].astype(np.float32)}, protocol=2))
    elif how == "label out of range":
        target.write_bytes(pickle.dumps({**good, "labels": [10] + good["labels"][1:]}, protocol=2))
    elif how == "checksum mismatch":
        good["data"][0, 0] ^= 1
        target.write_bytes(pickle.dumps(good, protocol=2))
    return target


@pytest.mark.parametrize("how, says", [
    ("missing file", "file is missing"),
    ("truncated pickle", "not a readable pickle, truncated or corrupt"),
    ("garbage bytes", "not a readable pickle, truncated or corrupt"),
    ("wrong shape", "'data' has shape (20, 100), expected (20, 3072)"),
    ("wrong dtype", "'data' is float32, expected a uint8 array"),
    ("label out of range", "labels out of range 0..9 (min 0, max 10)"),
    ("checksum mismatch", "checksum mismatch: sha256 "),
])
def test_damaged_files_raise_naming_file_problem_and_fix(fixture, how, says):
    """Does each kind of damage raise DatasetError naming the file, the problem and the fix?"""
    root, _, spec = fixture
    target = _damage(root, how)
    for call in (lambda: load_CIFAR10(root, spec=spec),
                 lambda: get_CIFAR10_data(10, 1, 1, cifar10_dir=root, spec=spec)):
        with pytest.raises(DatasetError) as err:
            call()
        message = str(err.value)
        assert str(target) in message and says in message, message
        assert "re-run `bash datasets/get_datasets.sh`" in message


def test_root_comes_from_CIFAR10_DIR_first(fixture, monkeypatch, tmp_path):
    """Does CIFAR10_DIR win, and does a CIFAR10_DIR that is not a folder fail naming it?"""
    root, _, _ = fixture
    monkeypatch.setenv("CIFAR10_DIR", str(root))
    assert find_cifar10_dir() == root
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="CIFAR10_DIR=.*nope is not a folder"):
        find_cifar10_dir()


def test_root_is_found_walking_up_from_the_working_directory(fixture, monkeypatch):
    """From a notebook folder deep inside the kit, is datasets/cifar-10-batches-py found above it?"""
    root, _, spec = fixture
    deep = root.parent.parent / "assignment" / "notebooks"
    deep.mkdir(parents=True)
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.chdir(deep)
    assert find_cifar10_dir() == root
    assert get_CIFAR10_data(3, 1, 1, spec=spec)["X_train"].shape == (3, 3, 32, 32)


def test_no_dataset_anywhere_names_the_places_and_the_fix(monkeypatch, tmp_path):
    """With nothing found, does the error list where it looked and say to run get_datasets.sh?"""
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setattr(data_mod, "PACKAGE_DATASETS", tmp_path / "pkg" / DIRNAME)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        load_CIFAR10()
    message = str(err.value)
    assert str(tmp_path / "datasets" / DIRNAME) in message and str(tmp_path / "pkg") in message
    assert "bash datasets/get_datasets.sh" in message and "CIFAR10_DIR" in message


def test_the_real_dataset_matches_its_pins_and_known_facts():
    """Does the installed CIFAR-10 verify in under 2 s and show 5000/1000 per class, labels 6 and 3, R 59, 43, 50?"""
    root = require_real_dataset()
    start = time.monotonic()
    batches = read_dataset(root)  # pinned checksums and known facts
    seconds = time.monotonic() - start
    X_train, y_train, X_test, y_test = load_CIFAR10(root, dtype=np.uint8)
    assert X_train.shape == (50000, 32, 32, 3) and X_test.shape == (10000, 32, 32, 3)
    assert np.bincount(y_train).tolist() == [5000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert (y_train[0], y_test[0]) == (6, 3)
    assert X_train[0, 0, :3, 0].tolist() == [59, 43, 50]  # R of image 0's first three pixels
    assert batches["data_batch_1"][0][0, :3].tolist() == [59, 43, 50]
    d = get_CIFAR10_data(num_training=1000, num_validation=100, num_test=100)
    assert d["X_train"].shape == (1000, 3, 32, 32) and abs(d["X_train"].mean()) < 1e-3
    assert seconds < 2.0, f"verifying the real dataset took {seconds:.2f} s, expected < 2 s"


def test_missing_real_data_skips_locally_but_fails_under_ci(monkeypatch, tmp_path):
    """Is a missing real dataset a skip on a laptop but a failure when CI=true?"""
    import cifar10_fixtures
    monkeypatch.setattr(cifar10_fixtures, "REAL_DIR", tmp_path / DIRNAME)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="real CIFAR-10 missing"):
        require_real_dataset()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: the data must be there"):
        require_real_dataset()
