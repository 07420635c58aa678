"""Tests for nn_helpers.cifar10_files: the on-disk format, checksums and checks."""
import hashlib
import pickle

import numpy as np
import pytest

from cifar10_fixtures import N, make_arrays, spec_for, write_folder
from nn_helpers.cifar10_files import (BATCHES, LABEL_NAMES, META, PINNED_SHA256, REAL_SPEC,
                                      DatasetError, DatasetSpec, batch_digest,
                                      read_batch, read_dataset, read_meta, write_batch,
                                      write_meta)


def test_batch_pickle_loads_like_the_authors_files_in_both_encodings(tmp_path):
    """Do keys load as bytes under encoding='bytes' (the CIFAR-10 page's snippet) and as str under 'latin1'?"""
    data, labels = make_arrays()["data_batch_1"]
    write_batch(tmp_path / "b", data, labels, "training batch 1 of 5")
    for encoding, text in (("latin1", str), ("bytes", lambda s: s.encode())):
        with open(tmp_path / "b", "rb") as f:
            d = pickle.load(f, encoding=encoding)
        assert sorted(d) == sorted(map(text, ["batch_label", "data", "labels"])), encoding
        pixels = d[text("data")]
        assert pixels.dtype == np.uint8 and pixels.shape == (N, 3072)
        np.testing.assert_array_equal(pixels, data)
        assert d[text("labels")] == labels.tolist() and d[text("batch_label")] == text("training batch 1 of 5")


def test_the_cifar10_pages_snippet_and_cs231ns_loader_read_a_written_batch(tmp_path):
    """Do the dataset page's `unpickle` (d[b'data']) and CS231n's load_CIFAR_batch (latin1) both work?"""
    data, labels = make_arrays()["test_batch"]
    write_batch(tmp_path / "test_batch", data, labels, "testing batch 1 of 1")

    def unpickle(file):   # the CIFAR-10 page's snippet
        with open(file, "rb") as fo:
            return pickle.load(fo, encoding="bytes")

    page = unpickle(tmp_path / "test_batch")
    np.testing.assert_array_equal(page[b"data"], data)
    assert page[b"labels"] == labels.tolist()

    with open(tmp_path / "test_batch", "rb") as f:   # CS231n's load_CIFAR_batch
        datadict = pickle.load(f, encoding="latin1")
        X = datadict["data"].reshape(N, 3, 32, 32).transpose(0, 2, 3, 1).astype("float")
        Y = np.array(datadict["labels"])
    assert X.shape == (N, 32, 32, 3) and (Y == labels).all()


def test_written_batch_stores_pixels_as_raw_bytes(tmp_path):
    """Is a written batch barely larger than its pixels (no text re-encoding of the bytes)?"""
    data, labels = make_arrays()["test_batch"]
    write_batch(tmp_path / "b", data, labels, "t")
    assert (tmp_path / "b").stat().st_size < data.nbytes + 10 * len(labels) + 500


def test_meta_has_the_standard_names_in_both_encodings(tmp_path):
    """Does batches.meta load with either encoding (bytes names under 'bytes', as the authors') and list airplane..truck?"""
    write_meta(tmp_path / META, 10000)
    for encoding, text in (("latin1", str), ("bytes", lambda s: s.encode())):
        with open(tmp_path / META, "rb") as f:
            meta = pickle.load(f, encoding=encoding)
        assert meta[text("label_names")] == [text(name) for name in LABEL_NAMES]
        assert meta[text("num_cases_per_batch")] == 10000 and meta[text("num_vis")] == 3072
    assert read_meta(tmp_path / META) == list(LABEL_NAMES)


def test_batch_digest_is_sha256_of_data_then_int64_labels():
    """Is the pinned checksum exactly sha256(data bytes + labels as '<i8' bytes)?"""
    data, labels = make_arrays()["data_batch_2"]
    expected = hashlib.sha256(data.tobytes() + labels.astype("<i8").tobytes()).hexdigest()
    assert batch_digest(data, labels) == expected
    assert batch_digest(data, labels.astype(np.int32).tolist()) == expected


def test_read_dataset_round_trips_a_fixture_with_its_own_checksums(tmp_path):
    """Does a written folder read back to exactly the arrays written, checksums checked?"""
    arrays = make_arrays(seed=3)
    batches = read_dataset(write_folder(tmp_path / "d", arrays), spec_for(arrays))
    assert list(batches) == list(BATCHES)
    for name in BATCHES:
        np.testing.assert_array_equal(batches[name][0], arrays[name][0])
        np.testing.assert_array_equal(batches[name][1], arrays[name][1])
        assert batches[name][1].dtype == np.int64


def test_checksums_are_skipped_only_when_the_spec_says_none(tmp_path):
    """Does sha256=None skip checksums, while any pinned value must match?"""
    root = write_folder(tmp_path / "d", make_arrays())
    read_dataset(root, DatasetSpec(N, None))
    wrong = DatasetSpec(N, {name: "0" * 64 for name in BATCHES})
    with pytest.raises(DatasetError, match="data_batch_1: checksum mismatch: sha256 [0-9a-f]{64} expected 0{64}"):
        read_dataset(root, wrong)


def test_the_real_spec_pins_all_six_batches():
    """Does the default spec pin 10000 images and a sha256 for each of the six batches?"""
    assert REAL_SPEC.images_per_batch == 10000 and REAL_SPEC.check_facts
    assert sorted(PINNED_SHA256) == sorted(BATCHES)
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in PINNED_SHA256.values())


def test_known_facts_are_checked_when_asked(tmp_path):
    """Does check_facts reject a folder whose class counts, first labels and pixel are not CIFAR-10's?"""
    root = write_folder(tmp_path / "d", make_arrays())
    with pytest.raises(DatasetError) as err:
        read_dataset(root, DatasetSpec(N, None, check_facts=True))
    assert "train class counts" in err.value.problem and "expected 5000 each" in err.value.problem
    assert "expected R values [59, 43, 50]" in err.value.problem


def test_a_pickle_naming_other_globals_is_refused_not_run(tmp_path):
    """Is a pickle that would call os.system refused by the reader instead of executed?"""
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            import os
            return (os.system, (f"touch {marker}",))

    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({"data": Evil()}, protocol=2))
    with pytest.raises(DatasetError, match="refusing to load global"):
        read_batch(tmp_path / "data_batch_1")
    assert not marker.exists()


def test_wrong_label_names_are_reported(tmp_path):
    """Does a batches.meta with other class names fail, naming what it holds?"""
    (tmp_path / META).write_bytes(pickle.dumps({"label_names": ["a", "b"]}, protocol=2))
    with pytest.raises(DatasetError, match=r"batches.meta: 'label_names' is \['a', 'b'\]"):
        read_meta(tmp_path / META)


def test_missing_key_is_named(tmp_path):
    """Does a batch without 'labels' fail naming the missing key?"""
    (tmp_path / "test_batch").write_bytes(
        pickle.dumps({"data": np.zeros((N, 3072), np.uint8)}, protocol=2))
    with pytest.raises(DatasetError, match="key 'labels' is missing"):
        read_batch(tmp_path / "test_batch", DatasetSpec(N, None))
