"""Where an edit to one answer cell of the reference can change results, read without running it.

A notebook loads names from another with `load_from_notebook("2_layers.ipynb", "affine_forward", ...)`.
An edit to a cell changes the names that cell defines and every name whose definition uses
them (in its own notebook, transitively). A notebook that loads one of those changed names
is reached, and then counts as changed throughout (its own names may use what it loaded), so
the notebooks that load from it are reached too.

This reads the kit's own reference notebooks (trusted code), never a submission: the grader
decides what a submission's notebook depends on in grading/notebook_keys.py, by file, with no
trust in the code. A notebook whose defining cells look names up at run time (globals(),
eval, exec, vars) counts as changed throughout by any edit.
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import nbformat

from nn_helpers.cells import defining_cells, grade_id, is_code, python_source, source

LOADER = "load_from_notebook"
DYNAMIC_LOOKUPS = {"globals", "eval", "exec", "vars", "__import__"}


def _trees(cells) -> list[tuple[dict, ast.Module]]:
    """(cell, parsed source) of the defining cells, setup cells included."""
    return [(cell, _parse(source(cell))) for _, cell in defining_cells(cells, with_locked=True)]


@functools.lru_cache(maxsize=2048)
def _parse(text: str) -> ast.Module:
    """A cell's source parsed (IPython's syntax made Python); the same cells are read for every mutant, and
    making them Python takes milliseconds each. Callers only read the tree. Only the kit's reference is read."""
    return ast.parse(python_source(text))


def _file_key(path: Path) -> tuple[str, int, int]:
    """What the caches below know a notebook file by: it is read again once this changes."""
    stat = Path(path).stat()
    return str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size


def _cells(path: Path) -> list:
    """The cells of a notebook, read once while the file is unchanged."""
    return _read_cells(*_file_key(path))


@functools.lru_cache(maxsize=64)
def _read_cells(path: str, mtime_ns: int, size: int) -> list:
    return nbformat.read(path, as_version=4).cells


def defined_names(tree: ast.Module) -> set[str]:
    """The names a cell binds at top level: functions, classes, assigned and imported names."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        else:
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
            names.update(n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _uses(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def notebook_loads(source_dir: Path) -> dict[str, dict[str, set[str]]]:
    """notebook -> {notebook it loads from: the names it loads} (load_from_notebook calls in its code cells)."""
    loads = {}
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        loads[path.name] = {notebook: set(names) for notebook, names in _loads_of(*_file_key(path)).items()}
    return loads


@functools.lru_cache(maxsize=64)
def _loads_of(path: str, mtime_ns: int, size: int) -> dict[str, set[str]]:
    """What one notebook file loads, read once while it is unchanged (the caller copies it)."""
    found: dict[str, set[str]] = {}
    for cell in _read_cells(path, mtime_ns, size):
        if not is_code(cell):
            continue
        for node in ast.walk(_parse(source(cell))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == LOADER:
                notebook, *names = [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
                found.setdefault(notebook, set()).update(names)
    return found


def changed_names(cells, edited: set[str]) -> set[str]:
    """The names of a notebook that an edit to the names `edited` changes: those and every name whose
    definition uses a changed one, transitively (every name, if a definition looks names up at run time)."""
    uses, every = {}, set()
    for _, cell in defining_cells(cells, with_locked=True):
        for bound, used in _bindings(source(cell)):
            every |= bound
            for name in bound:
                uses.setdefault(name, set()).update(used)
    if any(DYNAMIC_LOOKUPS & used for used in uses.values()):
        return every | set(edited)
    changed = set(edited)
    while more := {name for name, used in uses.items() if used & changed} - changed:
        changed |= more
    return changed


@functools.lru_cache(maxsize=2048)
def _bindings(text: str) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """(the names it binds, the names it uses) of each top-level statement of a cell's source."""
    return tuple((frozenset(defined_names(ast.Module(body=[node], type_ignores=[]))), frozenset(_uses(node)))
                 for node in _parse(text).body)


def cell_names(cells, cell_id: str) -> set[str]:
    """The names that the cell with nbgrader grade_id `cell_id` defines."""
    for cell, tree in _trees(cells):
        if grade_id(cell) == cell_id:
            return defined_names(tree)
    raise KeyError(f"no defining cell with grade_id {cell_id!r}")


def reached_by(source_dir: Path, notebook: str, cell_id: str) -> set[str]:
    """The notebooks whose results an edit to answer cell `cell_id` of `notebook` can change (itself included)."""
    loads = notebook_loads(source_dir)
    cells = _cells(Path(source_dir) / notebook)
    changed = changed_names(cells, cell_names(cells, cell_id))
    reached = {notebook}
    # A notebook loading a changed name is reached; one loading anything from a reached notebook too.
    while more := {name for name, froms in loads.items() if name not in reached
                   and (froms.get(notebook, set()) & changed or (reached - {notebook}) & froms.keys())}:
        reached |= more
    return reached


def needed_by(notebooks: set[str], loads: dict[str, dict[str, set[str]]]) -> set[str]:
    """The notebooks and everything they load, directly or not: what must be present to run them."""
    needed = set(notebooks)
    while more := set().union(*(loads[name].keys() for name in needed)) - needed:
        needed |= more
    return needed
