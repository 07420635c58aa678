"""What the outcome of one notebook of a submission depends on, as a key that changes when any of it does.

A notebook's outcome (its executed copy, its test results, its flags) depends on:
- its own cells as restored (code and markdown: the gradebook records the answers written
  in markdown too), not their outputs;
- the code of the notebooks it loads: `load_from_notebook("4_two_layer_net.ipynb", ...)`,
  transitively. The names are found statically: every string constant of its code (after
  IPython's magics become Python) that names a notebook of the assignment, whatever the
  call; a call of load_from_notebook on a name computed at run time, or a code cell that is
  not Python, makes it depend on every notebook;
- the grading context (`context_key`): the release, the reference notebooks, the course's
  config, the limits, the kit's code and Python, the submission's other files.

Notebooks pass files to each other through the folder they run in: notebooks whose code
names the same file (a saved model, say) run together (`run_together`), and a notebook that
runs takes along the later notebooks it names (`must_run`: in a full run they are not there
yet when it runs).
"""
from __future__ import annotations

import ast
import functools
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy

from nn_helpers.cells import is_code, python_source, source

from ..course import ROOT

FILE_NAME = re.compile(r"^[\w\-./]+\.[A-Za-z0-9]+$")   # a string constant that looks like a file name
LOADER = "load_from_notebook"
# nbgrader's own files in a submission folder: when it was submitted, not what it does.
BOOKKEEPING = {"timestamp.txt", "submission_secret.txt"}
KEPT_METADATA = ("nbgrader", "tags")   # what decides what a cell is; the rest is the editor's (scroll, timings)
EDITOR_FILES = {".ipynb_checkpoints", "__pycache__"}   # what Jupyter and Python leave beside the files


@dataclass(frozen=True)
class NotebookCode:
    """What a notebook's code names, read without running it."""
    notebooks: frozenset[str]   # notebooks of the assignment its code names (the ones it may load)
    files: frozenset[str]       # other file names its code names (files it may save or read)
    dynamic: bool = False       # loads a notebook whose name is computed, or holds a cell that is not Python


def read_code(cells: list, assignment: set[str]) -> NotebookCode:
    """What the code cells `cells` (nbformat or JSON) name; `assignment` holds the notebooks' file names."""
    constants, dynamic = set(), False
    for cell in cells:
        if not is_code(cell):
            continue
        try:
            tree = ast.parse(python_source(source(cell)))
        except SyntaxError:
            dynamic = True
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
            elif isinstance(node, ast.Call) and _called(node) == LOADER and \
                    not (node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                dynamic = True
    names = {Path(text).name for text in constants if text.endswith(".ipynb")}
    files = {Path(text).name for text in constants if FILE_NAME.match(text) and not text.endswith(".ipynb")}
    return NotebookCode(frozenset(names & assignment), frozenset(files), dynamic)


def _called(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else \
        call.func.attr if isinstance(call.func, ast.Attribute) else ""


def dependencies(codes: dict[str, NotebookCode]) -> dict[str, set[str]]:
    """Notebook -> every other notebook whose code it may run, directly or through others."""
    direct = {name: set(codes) if code.dynamic else set(code.notebooks) for name, code in codes.items()}
    found = {}
    for name in codes:
        seen, pending = set(), [name]
        while pending:
            for loaded in direct.get(pending.pop(), ()):
                if loaded not in seen:
                    seen.add(loaded)
                    pending.append(loaded)
        found[name] = seen - {name}
    return found


def run_together(codes: dict[str, NotebookCode]) -> dict[str, set[str]]:
    """Notebook -> the notebooks (itself included) linked to it by naming the same files, transitively."""
    groups = {name: {name} for name in codes}
    for name, code in codes.items():
        for other, theirs in codes.items():
            if other != name and code.files & theirs.files:
                merged = groups[name] | groups[other]
                for member in merged:
                    groups[member] = merged
    return groups


def must_run(changed: set[str], codes: dict[str, NotebookCode]) -> set[str]:
    """The notebooks to run when the `changed` ones must: with each, the notebooks it shares files with,
    and the later notebooks it names (in a full run it would not find them yet, so neither may it here)."""
    groups, todo = run_together(codes), set(changed)
    while True:
        more = set().union(*(groups.get(name, {name}) for name in todo)) if todo else set()
        more |= {other for name in todo if name in codes for other in codes
                 if other > name and (codes[name].dynamic or other in codes[name].notebooks)}
        if more <= todo:
            return todo
        todo |= more


def notebook_keys(folder: Path, names: list[str], context: str) -> tuple[dict[str, str], dict[str, NotebookCode]]:
    """name -> key of each notebook of the assignment in `folder` (restored), and what each one's code names.

    A notebook missing from the folder (unreadable, too big) has a key too: the notebooks that
    load it depend on its absence.
    """
    cells = {name: _cells(Path(folder) / name) for name in names}
    codes = {name: read_code(found, set(names)) for name, found in cells.items() if found is not None}
    code_digest = {name: _digest([_kept(c) for c in found if is_code(c)]) if found is not None else "missing"
                   for name, found in cells.items()}
    needs = dependencies(codes)
    keys = {name: _digest([context, [_kept(c) for c in found] if found is not None else "missing",
                           [(other, code_digest.get(other, "missing")) for other in sorted(needs.get(name, ()))]])
            for name, found in cells.items()}
    return keys, codes


def _cells(path: Path) -> list | None:
    try:
        return nbformat.read(path, as_version=4).cells
    except Exception:   # missing, unreadable: the key says so
        return None


def _kept(cell) -> list:
    metadata = cell.get("metadata", {})
    return [cell.get("cell_type"), source(cell), {key: metadata[key] for key in KEPT_METADATA if key in metadata}]


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def context_key(folders: dict[Path, set[str]], files: list[Path], extra: str) -> str:
    """A digest of everything but the notebooks that a notebook's outcome depends on.

    `folders`: every regular file in each folder but the names given counts (the release, the
    reference notebooks, the submission's other files); `files`: single files (the course's
    config); `extra`: the rest in words (the limits, the dataset's folder). The kit's code and
    Python's and NumPy's versions count too.
    """
    digest = hashlib.sha256(f"{kit_digest()}\0{sys.version}\0{numpy.__version__}\0{extra}\0".encode())
    for folder, skip in folders.items():
        digest.update(b"folder\0")
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file() and not path.is_symlink() and path.name not in skip and not EDITOR_FILES & set(path.parts):
                _add_file(digest, path, path.relative_to(folder).as_posix())
    for path in files:
        _add_file(digest, Path(path), Path(path).name)
    return digest.hexdigest()


def _add_file(digest, path: Path, name: str) -> None:
    digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())


@functools.lru_cache(maxsize=1)
def kit_digest() -> str:
    """A digest of the kit's code (autograder/ and nn_helpers/): a new version of the grader grades anew."""
    digest = hashlib.sha256()
    for package in ("autograder", "nn_helpers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            _add_file(digest, path, path.relative_to(ROOT).as_posix())
    return digest.hexdigest()
