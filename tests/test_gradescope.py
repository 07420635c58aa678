"""Tests for autograder.gradescope: the zip Gradescope runs, unpacked into a fake /autograder and run.

The end-to-end test does what Gradescope does, minus its container and apt-get: unpack the
zip into source/, run setup_python.sh (a fresh virtual environment, see venv_fixtures.py;
pip may not reach any index), copy run_autograder to the root and run it per submission.
To stay within a few minutes, submissions hold notebooks 1 and 2 only (the others are
reported missing and score zero); tests/test_adequacy.py grades every notebook.
"""
import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from autograder.course import ROOT, release_notebooks, source_notebooks
from autograder.gradescope import ENTRY_POINTS, TEMPLATES, write_zip
from autograder.gradescope_results import BY_HAND
from autograder.grading.scoring import autograded_tests
from autograder.quality.mutants import BY_NAME, write_mutant, write_reference
from autograder.sandbox import sandbox_unavailable
from cifar10_fixtures import make_arrays, spec_for, write_folder
from venv_fixtures import make_venv

SUBMITTED = ("1_computational_graphs.ipynb", "2_layers.ipynb")
MUTANT = BY_NAME["dx_not_reshaped"]   # notebook 2: dx keeps the shape (N, D)
POINTS = {grade_id: points for notebook, grade_id, points, _ in autograded_tests(source_notebooks())}
SUBMITTED_TESTS = [grade_id for notebook, grade_id, *_ in autograded_tests(source_notebooks()) if notebook in SUBMITTED]


def extract(archive: Path, dest: Path) -> Path:
    """Unpack like `unzip`: file modes kept (Python's extractall drops them)."""
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            path = Path(opened.extract(info, dest))
            if info.external_attr >> 16:
                path.chmod(stat.S_IMODE(info.external_attr >> 16))
    return dest


def test_the_zip_holds_the_entry_points_the_kit_and_the_course(tmp_path):
    """Does the zip hold executable entry points at its root, the grader, the helper wheel, the dataset
    fetcher and the course's notebooks, and nothing a run leaves behind?"""
    wheel = tmp_path / "nn_helpers-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"a wheel")
    archive = zipfile.ZipFile(write_zip(tmp_path / "autograder.zip", ROOT, wheel=wheel))
    names = set(archive.namelist())
    for name in ENTRY_POINTS:
        assert stat.S_IMODE(archive.getinfo(name).external_attr >> 16) == 0o755, name
    assert {"autograder/gradescope_run.py", "nn_helpers/cifar10_fetch.py", "datasets/get_datasets.sh",
            "requirements.txt", "pyproject.toml", "nbgrader_config.py", f"dist/{wheel.name}"} <= names
    for folder in ("solutions", "assignment"):
        assert {f"{folder}/two_layer_net/{p.name}" for p in source_notebooks().glob("*.ipynb")} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".npz")) or n.startswith("tests/")]
    config = json.loads(archive.read("gradescope_config.json"))
    assert config == {"assignment": "two_layer_net", "allow_no_sandbox": False,
                      "limits": {"cpu_seconds": 900.0, "memory_bytes": 6 * 2 ** 30, "test_seconds": 60.0}}


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_the_entry_points_are_strict_bash_that_parses(name):
    """Is each entry point a bash script that stops on any error, and does it parse (bash -n)?"""
    script = TEMPLATES / name
    assert script.read_text().startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in script.read_text()
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0


def test_setup_installs_the_system_packages_then_runs_the_python_steps():
    """Does setup.sh install bubblewrap and a venv-capable Python 3.11+, then hand over to setup_python.sh?"""
    lines = [line.strip() for line in (TEMPLATES / "setup.sh").read_text().splitlines()]
    assert any(line.startswith("apt-get install") and "bubblewrap" in line for line in lines)
    assert any(line.startswith("apt-get install") and '"python$VERSION-venv"' in line for line in lines)
    assert lines[-1] == 'PYTHON="$PYTHON" bash setup_python.sh'


def test_a_course_without_its_release_is_refused_with_the_fix(tmp_path):
    """Is a course whose release was never generated refused, naming the command that makes it?"""
    (tmp_path / "solutions" / "two_layer_net").mkdir(parents=True)
    shutil.copy2(source_notebooks() / SUBMITTED[0], tmp_path / "solutions" / "two_layer_net")
    with pytest.raises(FileNotFoundError, match="python -m autograder release"):
        write_zip(tmp_path / "autograder.zip", tmp_path, wheel=tmp_path / "unused.whl")


def require_sandbox():
    """Skip where no sandbox can be made; under CI=true that is a failure instead."""
    why = sandbox_unavailable()
    if why and os.environ.get("CI") == "true":
        pytest.fail(f"the grading sandbox cannot be made here: {why} (CI=true: it must be)")
    if why:
        pytest.skip(f"the grading sandbox cannot be made here: {why}")


@pytest.fixture(scope="module")
def gradescope(tmp_path_factory, helper_wheel):
    """A fake /autograder set up from the zip as Gradescope would; yields run(submission folder) -> results."""
    require_sandbox()
    base = tmp_path_factory.mktemp("gradescope")
    root = base / "autograder"
    extract(write_zip(base / "autograder.zip", ROOT, wheel=helper_wheel), root / "source")
    make_venv(root / "venv")
    arrays = make_arrays()
    spec = spec_for(arrays)
    (base / "spec.json").write_text(json.dumps({"images_per_batch": spec.images_per_batch, "sha256": spec.sha256}))
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PIP_NO_INDEX": "1", "CIFAR10_SPEC": str(base / "spec.json"),
           "CIFAR10_DIR": str(write_folder(base / "cifar-10-batches-py", arrays))}
    env.pop("PYTHONPATH", None)
    setup = subprocess.run(["bash", str(root / "source" / "setup_python.sh")], env=env, cwd=base,
                           capture_output=True, text=True, timeout=600)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")   # where Gradescope puts it

    def run(submission: Path) -> dict:
        for folder in ("submission", "results"):
            shutil.rmtree(root / folder, ignore_errors=True)
        shutil.copytree(submission, root / "submission")
        done = subprocess.run([str(root / "run_autograder")], env=env, cwd=root, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads((root / "results" / "results.json").read_text())

    run.root, run.setup_output = root, setup.stdout
    return run


def notebooks(folder: Path, dest: Path, names=SUBMITTED) -> Path:
    dest.mkdir(parents=True)
    for name in names:
        shutil.copy2(folder / name, dest / name)
    return dest


def by_test(record) -> dict:
    return {t["name"].split(":")[0]: t for t in record["tests"] if t["visibility"] == "visible"}


@pytest.mark.slow
@pytest.mark.sandbox
def test_setup_installs_the_helper_wheel_and_prepares_the_course(gradescope):
    """Does setup_python.sh give the new environment the helper package from the wheel, and a prepared gradebook?"""
    python = gradescope.root / "venv" / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import nn_helpers; print(nn_helpers.__file__)"], cwd="/",
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(gradescope.root / "venv" / "lib"))
    assert (gradescope.root / "source" / "grading" / "gradescope-course" / "gradebook.db").is_file()
    assert "nothing to do" in gradescope.setup_output   # the (fixture) dataset verified in place


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_reference_gets_every_point_of_the_notebooks_it_submits(gradescope, tmp_path):
    """Does the reference, submitted in a subfolder, get full marks on notebooks 1-2, the rest missing and the
    answers graded by hand pending?"""
    reference = write_reference(source_notebooks(), release_notebooks(), tmp_path / "reference")
    record = gradescope(notebooks(reference, tmp_path / "submission" / "two_layer_net").parent)
    tests = by_test(record)
    assert {t: tests[t]["score"] for t in SUBMITTED_TESTS} == {t: POINTS[t] for t in SUBMITTED_TESTS}
    assert record["score"] == sum(POINTS[t] for t in SUBMITTED_TESTS)
    others = [t for t in POINTS if t not in SUBMITTED_TESTS]
    assert all(tests[t]["score"] == 0 and "missing from the submission" in tests[t]["output"] for t in others)
    assert [t["output"] for t in record["tests"] if "graded by hand" in t["name"]] == [BY_HAND] * 3
    assert "4_two_layer_net.ipynb: is missing from the submission" in record["output"]


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_untouched_release_gets_nothing(gradescope, tmp_path):
    """Does the untouched release score zero on every test, without a hidden test's message reaching the student?"""
    record = gradescope(notebooks(release_notebooks(), tmp_path / "submission"))
    assert record["score"] == 0
    tests = by_test(record)
    assert all(tests[t]["score"] == 0 and tests[t]["output"] for t in SUBMITTED_TESTS)
    assert not [t for t in record["tests"] if t["visibility"] == "hidden"]


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_seeded_bug_loses_exactly_the_points_of_its_tests(gradescope, tmp_path):
    """Does the mutant lose the points of the tests it must fail (and only those), its cause named to the student
    (or, for a hidden part's message, in the details shown after publication)?"""
    reference = write_reference(source_notebooks(), release_notebooks(), tmp_path / "reference")
    mutant = write_mutant(MUTANT, reference, tmp_path / "mutant")
    record = gradescope(notebooks(mutant, tmp_path / "submission"))
    tests = by_test(record)
    failed = [t for t in SUBMITTED_TESTS if tests[t]["score"] < POINTS[t]]
    assert failed == [t for t in MUTANT.must_fail if t in SUBMITTED_TESTS] == ["test_2_2_affine_backward"]
    details = {t["name"].split(":")[0]: t["output"] for t in record["tests"] if t["visibility"] == "after_published"}
    assert set(details) <= set(failed)   # a full message withheld from a hidden part waits for publication
    assert all(MUTANT.cause in tests[t]["output"] + details.get(t, "") for t in failed), record["tests"]
