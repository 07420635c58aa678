"""Flag code a grader should look at: what the known attacks on autograding write.

Scores never depend on this: they come from trusted/tests.py, which none of these tricks can
reach. The flags point an instructor at submissions that tried, with the cell named. A
static read of the student's own cells (answer cells and added ones; locked cells are
restored from the release anyway), so an attacker can hide from it, never score with it.
"""
from __future__ import annotations

import ast
import re

from pathlib import Path

import nbformat
from nbformat import NotebookNode

from nn_helpers.cells import cell_label, grade_id, is_locked, python_source

from ..results import Flag

# Calls that reach outside the notebook's own computation: processes, signals, sockets, raw memory.
OUTSIDE = {"os.fork", "os.kill", "os.killpg", "os.system", "os.popen", "os.exec", "os.spawn", "os.setsid",
           "signal.", "socket.", "subprocess.", "ctypes.", "multiprocessing.", "urllib.", "http.", "requests."}
# Dunder methods that change what comparisons and NumPy see.
COMPARISONS = {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__array__",
               "__array_ufunc__", "__array_function__", "__array_finalize__"}
MAX_READ = 64 * 2 ** 10   # characters of one cell the static read parses (its syntax tree takes 600 times that)
CLAIM = re.compile(r"(all\s+)?tests?\s+(passed|pass|ok)|\d+\s*/\s*\d+\s+points", re.IGNORECASE)
COURSE_FILES = re.compile(r"(^|[/\\])(solutions|source|gradebook\.db|autograded|submitted)([/\\]|$)")


def flag_suspicious_code(folder: Path) -> list[Flag]:
    """Flags for every notebook in a (restored) submission folder."""
    flags = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        flags += suspicious_code(path.name, nbformat.read(path, as_version=4))
    return flags


def suspicious_code(notebook_name: str, notebook: NotebookNode) -> list[Flag]:
    """One flag per (cell, reason) for the student's code cells of an executed or submitted notebook."""
    protected = _imported_names(c for c in notebook.cells if is_locked(c))
    flags = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code" or is_locked(cell):
            continue
        label = grade_id(cell) or cell_label(notebook.cells, number - 1)   # never a number JupyterLab does not show
        if len(cell.source) > MAX_READ:
            flags.append(Flag(notebook_name, label, f"holds {len(cell.source) // 1024} KiB of code, more than the "
                                                    f"{MAX_READ // 1024} KiB the review reads (flagged for review; it "
                                                    "cannot change a score)"))
            continue
        try:
            tree = ast.parse(python_source(cell.source))
        except SyntaxError:
            continue
        modules = _imported_names([cell]) | protected
        for reason in dict.fromkeys(_reasons(tree, modules, protected)):
            flags.append(Flag(notebook_name, label, f"{reason} (flagged for review; the grader's tests "
                                                         "do not run in the notebook, so it cannot change a score)"))
    return flags



def _imported_names(cells) -> set[str]:
    names = set()
    for cell in cells:
        if len(cell.source) > MAX_READ:
            continue
        try:
            tree = ast.parse(python_source(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
    return names


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _assigned(targets):
    """The names and attributes an assignment binds (not the names inside a subscript: x[np.arange(3)] = 0)."""
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            yield from _assigned(target.elts)
        elif isinstance(target, ast.Starred):
            yield from _assigned([target.value])
        elif isinstance(target, (ast.Name, ast.Attribute)):
            yield target


def _reasons(tree, modules: set[str], protected: set[str]):
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in _assigned(targets):
            name = _dotted(target)
            if isinstance(target, ast.Attribute) and name.split(".")[0] in modules:
                yield f"replaces {name}, part of a library the tests use"
            elif isinstance(target, ast.Name) and target.id in protected:
                yield f"rebinds {target.id}, which the notebook's tests import"
        if isinstance(node, ast.Call):
            called = _dotted(node.func)
            if called == "setattr" and node.args and _dotted(node.args[0]).split(".")[0] in modules:
                yield f"replaces an attribute of {_dotted(node.args[0])} with setattr"
            if any(called.startswith(prefix) for prefix in OUTSIDE):
                yield f"calls {called}: processes, signals or the network are no part of the assignment"
            if called == "print" and any(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                         and CLAIM.search(a.value) for a in node.args):
                yield "prints that tests passed"
        if isinstance(node, ast.ClassDef):
            overridden = sorted(COMPARISONS & {f.name for f in node.body if isinstance(f, ast.FunctionDef)})
            if overridden:
                yield f"class {node.name} redefines {', '.join(overridden)}"
            if any(_dotted(base).endswith("ndarray") for base in node.bases):
                yield f"class {node.name} subclasses numpy's ndarray"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and COURSE_FILES.search(node.value):
            yield f"names the grading course's files ({node.value[:60]!r})"
