"""The setup cell that lets each notebook run outside the kit: on Colab, or in a bare Jupyter.

Every notebook starts (after its title) with a locked cell, grade_id `setup_colab_<part>`.
Where the helper package imports (the kit's checkout, and wherever work is graded) the cell
does nothing. Elsewhere it installs the helper package, from a wheel next to the notebook
(`nn_helpers-*.whl`, built with `python -m pip wheel --no-deps .`) or else from the kit's git
repository (KIT_REPOSITORY); then, in the notebooks that use CIFAR-10, fetches and verifies
it with the package's own fetcher; and names the earlier notebooks that must sit in the same
folder. When it cannot install the package, it says what to do.

The cells are generated: set KIT_REPOSITORY here, then `python -m autograder release` writes
them into solutions/ and the release (`release --check` catches a stale one).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template

import nbformat

from nn_helpers.cells import grade_id

# The kit's git repository, for `pip install "nn-helpers @ git+KIT_REPOSITORY"` on Colab, e.g.
# "https://github.com/<you>/<kit>.git". Empty: students upload the helper wheel next to the notebook.
KIT_REPOSITORY = ""
CELL_ID = "setup-colab"
LOADS = re.compile(r"""load_from_notebook\(\s*["']([^"']+\.ipynb)["']""")
USES_CIFAR10 = ("get_CIFAR10_data(", "load_CIFAR10(")

CELL = Template('''\
# Outside the kit (Colab, a bare Jupyter) this installs the helper package nn_helpers$fetches.
# In the kit's folder, and when your work is graded, it does nothing. Run it first.
KIT_REPOSITORY = $repository  # the kit's git repository, if your instructor published it


def _setup_outside_the_kit(uses_cifar10=$cifar10,
                           uses_notebooks=$notebooks):
    import glob, importlib, importlib.util, os, site, subprocess, sys
    if importlib.util.find_spec("nn_helpers") is not None:
        return
    wheels = sorted(glob.glob("nn_helpers-*.whl"))
    source = wheels[-1] if wheels else f"nn-helpers @ git+{KIT_REPOSITORY}" if KIT_REPOSITORY else ""
    fix = (f"put the helper wheel nn_helpers-*.whl from your instructor in {os.getcwd()} (on Colab: "
           "the Files pane, Upload) or set KIT_REPOSITORY above, then run this cell again "
           "(in the kit's own folder, choose the kernel of its .venv instead)")
    if not source:
        raise ModuleNotFoundError(f"The helper package nn_helpers is not installed. Fix: {fix}.")
    print(f"Installing nn_helpers from {source}")
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source], capture_output=True, text=True)
    sys.path += [site.getusersitepackages()]  # where pip installs when the environment is read-only
    importlib.invalidate_caches()
    if pip.returncode or importlib.util.find_spec("nn_helpers") is None:
        raise ModuleNotFoundError(f"Could not install nn_helpers from {source}:\\n{pip.stderr}\\nFix: {fix}.")
    dest = os.environ.get("CIFAR10_DIR") or os.path.join("datasets", "cifar-10-batches-py")
    fetch = [sys.executable, "-m", "nn_helpers.cifar10_fetch", "--dest", dest]  # verified; a verified copy is kept
    if uses_cifar10:
        with subprocess.Popen(fetch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as run:
            for line in run.stdout:
                print(line, end="")
        if run.returncode:
            raise RuntimeError("Could not fetch CIFAR-10 (see above). Fix: once the network works, run "
                               f"!python {' '.join(fetch[1:])}")
    missing = [name for name in uses_notebooks if not os.path.exists(name)]
    if missing:
        print(f"This notebook loads your work from {', '.join(missing)}: put them in {os.getcwd()}.")


_setup_outside_the_kit()
''')


def setup_cell_source(uses_cifar10: bool, uses_notebooks: list[str], repository: str = KIT_REPOSITORY) -> str:
    """The setup cell's code for a notebook that uses CIFAR-10 or not and loads `uses_notebooks`."""
    names = ", ".join(json.dumps(name) for name in uses_notebooks) + ("," if len(uses_notebooks) == 1 else "")
    return CELL.substitute(repository=json.dumps(repository), cifar10=uses_cifar10, notebooks=f"({names})",
                           fetches=" and fetches CIFAR-10" if uses_cifar10 else "").rstrip("\n")


def setup_grade_id(path: Path) -> str:
    """setup_colab_<part>, the part being the number the notebook's name starts with."""
    return f"setup_colab_{Path(path).name.split('_', 1)[0]}"


def loaded_notebooks(path: Path) -> list[str]:
    """The notebooks `path` loads with load_from_notebook, and those they load, sorted."""
    found, queue = [], [Path(path)]
    while queue:
        notebook = queue.pop(0)
        sources = [cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"]
        for name in (name for source in sources for name in LOADS.findall(source)):
            if name not in found and name != Path(path).name:
                found.append(name)
                queue.append(notebook.parent / name)
    return sorted(found)


def expected_cell(path: Path, repository: str = KIT_REPOSITORY) -> str:
    """The setup cell `path` must hold."""
    sources = [cell.source for cell in nbformat.read(path, as_version=4).cells
               if cell.cell_type == "code" and grade_id(cell) != setup_grade_id(path)]
    return setup_cell_source(any(call in s for s in sources for call in USES_CIFAR10), loaded_notebooks(path),
                             repository)


def refresh_setup_cells(source_dir: Path, repository: str = KIT_REPOSITORY) -> list[str]:
    """Write the setup cell into every notebook of `source_dir` (after its title); return the notebooks changed."""
    changed = []
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        source = expected_cell(path, repository)
        cells = [cell for cell in notebook.cells if grade_id(cell) == setup_grade_id(path)]
        if cells and cells[0].source == source:
            continue
        if cells:
            cells[0].source = source
        else:
            cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
                "grade": False, "grade_id": setup_grade_id(path), "locked": True, "schema_version": 3,
                "solution": False}})
            cell.id = CELL_ID
            notebook.cells.insert(1 if notebook.cells and notebook.cells[0].cell_type == "markdown" else 0, cell)
        nbformat.write(notebook, path)
        changed.append(path.name)
    return changed


def stale_setup_cells(source_dir: Path, repository: str = KIT_REPOSITORY) -> list[str]:
    """Notebooks whose setup cell is missing or differs from what this module writes."""
    stale = []
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        cells = [c for c in nbformat.read(path, as_version=4).cells if grade_id(c) == setup_grade_id(path)]
        if not cells or cells[0].source != expected_cell(path, repository):
            stale.append(f"{path.name}: its {setup_grade_id(path)} cell is {'stale' if cells else 'missing'}")
    return stale
