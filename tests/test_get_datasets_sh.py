"""Tests for datasets/get_datasets.sh, run as a user would: bash, environment overrides, exit codes."""
import json
import os
import subprocess
import sys
import time

import pytest

from cifar10_fixtures import (REPO, LocalServer, closed_port_url, leftovers, make_arrays,
                              official_tarball, spec_for)
from nn_helpers.cifar10_files import DIRNAME, read_dataset

SCRIPT = REPO / "datasets" / "get_datasets.sh"


@pytest.fixture
def kit(tmp_path):
    """A fixture official tarball, a CIFAR10_SPEC file pinning it, and a destination."""
    arrays = make_arrays(seed=5)
    (tmp_path / "src").mkdir()
    raw, md5 = official_tarball(tmp_path / "src" / "cifar-10-python.tar.gz", arrays)
    spec = spec_for(arrays)
    spec_file = tmp_path / "src" / "spec.json"
    spec_file.write_text(json.dumps({"images_per_batch": spec.images_per_batch,
                                     "sha256": dict(spec.sha256)}))
    (tmp_path / "data").mkdir()
    return {"raw": raw, "md5": md5, "spec": spec, "spec_file": spec_file,
            "dest": tmp_path / "data" / DIRNAME}


def run(kit, url, **over):
    """Run the script with only our CIFAR10_* settings; return the CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIFAR10_")}
    env.update({"PYTHON": sys.executable, "CIFAR10_DIR": str(kit["dest"]),
                "CIFAR10_SOURCE": "official", "CIFAR10_OFFICIAL_URL": url,
                "CIFAR10_OFFICIAL_SIZE": str(len(kit["raw"])), "CIFAR10_OFFICIAL_MD5": kit["md5"],
                "CIFAR10_SPEC": str(kit["spec_file"]), "CIFAR10_TIMEOUT": "5", **over})
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_script_installs_then_leaves_a_verified_dataset_alone(kit):
    """Does a first run install the dataset and a second run do nothing, quickly, and say so?"""
    with LocalServer(kit["raw"]) as server:
        first = run(kit, server.url)
    assert first.returncode == 0, first.stderr
    assert "ready at" in first.stdout and "from the official source, verified" in first.stdout
    read_dataset(kit["dest"], kit["spec"])
    before = {p.name: p.stat().st_mtime_ns for p in kit["dest"].iterdir()}

    start = time.monotonic()
    second = run(kit, closed_port_url())  # no server: nothing may be fetched
    assert second.returncode == 0, second.stderr
    assert "already in place and verified" in second.stdout and "nothing to do" in second.stdout
    assert time.monotonic() - start < 10
    assert {p.name: p.stat().st_mtime_ns for p in kit["dest"].iterdir()} == before


def test_script_rejects_a_bad_checksum_and_explains(kit):
    """Does a tarball with the wrong md5 exit non-zero, say why and how to fix it, and leave nothing?"""
    with LocalServer(kit["raw"]) as server:
        result = run(kit, server.url, CIFAR10_OFFICIAL_MD5="0" * 32)
    assert result.returncode == 1
    assert f"official: checksum mismatch: md5 {kit['md5']} expected {'0' * 32}" in result.stderr
    assert "To place the files by hand" in result.stderr
    assert f"{kit['dest']}/ holds data_batch_1..5, test_batch and batches.meta" in result.stderr
    assert leftovers(kit["dest"].parent) == []


def test_script_reports_a_truncated_transfer(kit):
    """Does a transfer cut short exit 1 with the byte count and leave nothing behind?"""
    with LocalServer(kit["raw"], cut=4096) as server:
        result = run(kit, server.url)
    assert result.returncode == 1
    assert "official:" in result.stderr and "4096 bytes" in result.stderr
    assert leftovers(kit["dest"].parent) == []


def test_script_reports_a_down_server(kit):
    """Does an unreachable server exit 1 with 'cannot reach' and the URL?"""
    url = closed_port_url()
    result = run(kit, url)
    assert result.returncode == 1
    assert f"official: cannot reach {url}" in result.stderr


def test_script_rejects_an_unknown_source(kit):
    """Is CIFAR10_SOURCE=torrent an error (exit 2) naming the allowed values?"""
    result = run(kit, closed_port_url(), CIFAR10_SOURCE="torrent")
    assert result.returncode == 2
    assert "CIFAR10_SOURCE='torrent' is not one of: auto, official, npm" in result.stderr


def test_script_names_a_missing_python(kit):
    """Does PYTHON pointing nowhere fail with a message naming it and the fix?"""
    result = run(kit, closed_port_url(), PYTHON="/nonexistent/python")
    assert result.returncode == 1
    assert "no python at '/nonexistent/python'" in result.stderr and "PYTHON=" in result.stderr


def test_script_refuses_arguments(kit):
    """Is an argument such as --force an error (exit 2) pointing to the environment settings?"""
    result = subprocess.run(["bash", str(SCRIPT), "--force"], capture_output=True, text=True,
                            timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "takes no arguments (got: --force)" in result.stderr and "README" in result.stderr


def test_script_is_strict_bash():
    """Does the script start with a shebang and `set -euo pipefail`?"""
    lines = SCRIPT.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines[:12]
