"""Tests for autograder.colab: each notebook's setup cell, in the kit (nothing happens) and outside it.

The slow test sets a notebook up where the kit is not: a fresh virtual environment without
the helper package (venv_fixtures.py), a folder away from the checkout holding the release
notebooks and the helper wheel, pip kept off every index, CIFAR-10 a small fixture served
from a file:// URL.
"""
import contextlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.colab import (CELL_ID, expected_cell, loaded_notebooks, refresh_setup_cells, setup_cell_source,
                              setup_grade_id, stale_setup_cells)
from autograder.course import release_notebooks, source_notebooks
from cifar10_fixtures import make_arrays, official_tarball, spec_for
from nn_helpers import cells
from venv_fixtures import make_venv

NOTEBOOKS = sorted(p.name for p in source_notebooks().glob("*.ipynb"))


def setup_cell(path: Path):
    [cell] = [c for c in nbformat.read(path, as_version=4).cells if cells.grade_id(c) == setup_grade_id(path)]
    return cell


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_notebook_starts_with_its_locked_setup_cell(name):
    """Is the cell after each notebook's title its setup cell: locked, neither answer nor test, current?"""
    for folder in (source_notebooks(), release_notebooks()):
        notebook = nbformat.read(folder / name, as_version=4)
        assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# Part")
        cell = notebook.cells[1]
        assert cells.grade_id(cell) == setup_grade_id(folder / name) == f"setup_colab_{name[0]}"
        assert cells.is_locked(cell) and not cells.is_test(cell) and not cells.is_answer(cell)
        assert cell.source == expected_cell(source_notebooks() / name)
    assert stale_setup_cells(source_notebooks()) == []


def test_only_the_training_notebooks_fetch_cifar10_and_loads_are_followed_through():
    """Do notebooks 6 and 7 alone fetch CIFAR-10, and does 6 name 2 (loaded by 4) as well as 4 and 5?"""
    fetching = [name for name in NOTEBOOKS if "uses_cifar10=True" in expected_cell(source_notebooks() / name)]
    assert fetching == ["6_training_cifar10.ipynb", "7_hyperparameter_search.ipynb"]
    assert loaded_notebooks(source_notebooks() / "6_training_cifar10.ipynb") == [
        "2_layers.ipynb", "4_two_layer_net.ipynb", "5_solver.ipynb"]
    assert loaded_notebooks(source_notebooks() / "1_computational_graphs.ipynb") == []


def test_in_the_kit_the_cell_does_nothing(monkeypatch):
    """Where the helper package imports, does the cell run no program, print nothing and fetch nothing?"""
    def refuse(*args, **kwargs):
        raise AssertionError(f"the setup cell started {args[0]}")
    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(setup_cell(source_notebooks() / "6_training_cifar10.ipynb").source, {"__name__": "__main__"})
    assert printed.getvalue() == ""


def test_load_from_notebook_never_runs_the_setup_cell():
    """Is the setup cell left out of what another notebook loads (it is no answer or export cell)?"""
    notebook = nbformat.read(source_notebooks() / "4_two_layer_net.ipynb", as_version=4)
    loaded = [cell for _, cell in cells.defining_cells(notebook.cells, with_locked=False)]
    assert not any(cells.grade_id(cell) == "setup_colab_4" for cell in loaded)


def test_refreshing_inserts_after_the_title_then_updates_in_place(tmp_path):
    """Is a missing setup cell inserted after the title, a stale one rewritten, and a current one left alone?"""
    path = tmp_path / "9_demo.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Part 9"), new_code_cell("data = get_CIFAR10_data()")]), path)
    assert stale_setup_cells(tmp_path) == ["9_demo.ipynb: its setup_colab_9 cell is missing"]
    assert refresh_setup_cells(tmp_path) == ["9_demo.ipynb"]
    notebook = nbformat.read(path, as_version=4)
    assert [c.cell_type for c in notebook.cells] == ["markdown", "code", "code"] and notebook.cells[1].id == CELL_ID
    assert notebook.cells[1].source == setup_cell_source(True, [])
    assert refresh_setup_cells(tmp_path) == []
    assert refresh_setup_cells(tmp_path, repository="https://example.org/kit.git") == ["9_demo.ipynb"]
    assert 'KIT_REPOSITORY = "https://example.org/kit.git"' in nbformat.read(path, as_version=4).cells[1].source
    assert stale_setup_cells(tmp_path) == ["9_demo.ipynb: its setup_colab_9 cell is stale"]


RUN_CELLS = """
import json, sys
namespace = {"__name__": "__main__"}
notebook = json.load(open(sys.argv[1]))
for wanted in sys.argv[2:]:
    [cell] = [c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == wanted]
    try:
        exec("".join(cell["source"]), namespace)
    except Exception as error:
        print(json.dumps({"error": type(error).__name__, "message": str(error)}))
        sys.exit(0)
import nn_helpers
print(json.dumps({"nn_helpers": nn_helpers.__file__}))
"""


@pytest.fixture(scope="module")
def outside(tmp_path_factory, helper_wheel):
    """run(folder, notebook, *cells) executes cells of `notebook` with a fresh environment's python in `folder`."""
    base = tmp_path_factory.mktemp("colab")
    arrays = make_arrays()
    raw, md5 = official_tarball(base / "cifar-10-python.tar.gz", arrays)
    spec = spec_for(arrays)
    (base / "spec.json").write_text(json.dumps({"images_per_batch": spec.images_per_batch, "sha256": spec.sha256}))
    (base / "run_cells.py").write_text(RUN_CELLS)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "CIFAR10_DIR")}
    env.update(PIP_NO_INDEX="1", CIFAR10_SOURCE="official", CIFAR10_OFFICIAL_URL=(base / "cifar-10-python.tar.gz").as_uri(),
               CIFAR10_OFFICIAL_SIZE=str(len(raw)), CIFAR10_OFFICIAL_MD5=md5, CIFAR10_SPEC=str(base / "spec.json"))

    def run(python: Path, folder: Path, notebook: str, *grade_ids: str) -> tuple[dict, str]:
        done = subprocess.run([str(python), str(base / "run_cells.py"), notebook, *grade_ids], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        *printed, last = done.stdout.strip().splitlines()
        return json.loads(last), "\n".join(printed)

    run.base, run.env, run.wheel, run.spec = base, env, helper_wheel, spec
    return run


def student_folder(base: Path, names, wheel: Path | None) -> Path:
    folder = base / "content"
    folder.mkdir()
    for name in names:
        shutil.copy2(release_notebooks() / name, folder / name)
    if wheel:
        shutil.copy2(wheel, folder / wheel.name)
    return folder


@pytest.mark.slow
def test_outside_the_kit_the_setup_cell_installs_the_helper_wheel_or_says_what_to_do(outside, tmp_path):
    """In an environment without nn_helpers, does the setup cell say what to do, then, with the wheel beside the
    notebook, install it so that the notebook's own import cell runs?"""
    python = make_venv(tmp_path / "venv")
    folder = student_folder(tmp_path, NOTEBOOKS, wheel=None)
    bare = subprocess.run([str(python), "-c", "import nn_helpers"], cwd=folder, env=outside.env, capture_output=True)
    assert bare.returncode != 0 and b"No module named 'nn_helpers'" in bare.stderr

    failed, _ = outside(python, folder, "1_computational_graphs.ipynb", "setup_colab_1", "setup_1")
    assert failed["error"] == "ModuleNotFoundError"
    assert "Fix: put the helper wheel nn_helpers-*.whl" in failed["message"] and str(folder) in failed["message"]

    shutil.copy2(outside.wheel, folder / outside.wheel.name)
    done, printed = outside(python, folder, "1_computational_graphs.ipynb", "setup_colab_1", "setup_1")
    assert done["nn_helpers"].startswith(str(tmp_path / "venv" / "lib")), done   # the wheel, not the checkout
    assert printed == f"Installing nn_helpers from {outside.wheel.name}"
    assert not (folder / "datasets").exists()   # notebook 1 uses no CIFAR-10


@pytest.mark.slow
def test_outside_the_kit_a_training_notebook_fetches_a_verified_cifar10_and_names_the_notebooks_it_needs(outside, tmp_path):
    """Does notebook 6's setup cell fetch CIFAR-10 with the installed package's fetcher into datasets/, where the
    loader then finds and verifies it, and name the earlier notebooks missing from the folder?"""
    python = make_venv(tmp_path / "venv")
    folder = student_folder(tmp_path, ["6_training_cifar10.ipynb"], wheel=outside.wheel)
    done, printed = outside(python, folder, "6_training_cifar10.ipynb", "setup_colab_6")
    assert "nn_helpers" in done, done
    assert "CIFAR-10 is ready at" in printed and "verified" in printed
    assert (f"loads your work from 2_layers.ipynb, 4_two_layer_net.ipynb, 5_solver.ipynb: put them in {folder}"
            in printed)
    check = ("from nn_helpers.data import find_cifar10_dir, get_CIFAR10_data\n"
             "from nn_helpers.cifar10_fetch import load_spec\n"
             f"spec = load_spec({str(outside.base / 'spec.json')!r})\n"
             "data = get_CIFAR10_data(num_training=80, num_validation=20, num_test=10, spec=spec)\n"
             "print(find_cifar10_dir(), *(data[k].shape[0] for k in ('X_train', 'X_val', 'X_test')))")
    found = subprocess.run([str(python), "-c", check], cwd=folder, env=outside.env, capture_output=True, text=True)
    assert found.stdout.split() == [str(folder / "datasets" / "cifar-10-batches-py"), "80", "20", "10"], found.stderr
