"""Use what a student wrote in one notebook from another notebook of the assignment.

`load_from_notebook("2_layers.ipynb", "affine_forward", ...)` executes that
notebook's code cells that define things (its autograded answer cells and any
cell tagged `export`), in order, in a fresh namespace, and returns the names
asked for. Test cells, plots and training runs are never executed, so loading
is fast and has no side effects.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .cells import cell_label, defining_cells, loaded_cell_name, source


def load_from_notebook(notebook: str | Path, *names: str):
    """Return the objects called `names` defined by `notebook` (one object if one name)."""
    path = Path(notebook)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found next to this notebook (looked in {Path.cwd()}). "
                                "Keep all notebooks of the assignment in the same folder (on Colab: upload "
                                "them with the Files pane, or `%cd` to their folder on a mounted Drive).")
    namespace = {"__name__": f"notebook_{path.stem}", "np": np}
    for label, cell in _defining_cells(path):
        try:
            exec(compile(cell, loaded_cell_name(path.name, label), "exec"), namespace)
        except Exception as error:
            what = f"{error.msg} at line {error.lineno}" if isinstance(error, SyntaxError) else str(error)
            raise ImportError(f"{path.name}, {label}, failed while being loaded: "
                              f"{type(error).__name__}: {what}. Fix that cell and re-run it.") from error
    missing = [name for name in names if name not in namespace]
    if missing:
        raise ImportError(f"{path.name} defines no {', '.join(missing)}: complete it there first "
                          "(keep the function names of the stubs).")
    found = tuple(namespace[name] for name in names)
    return found[0] if len(found) == 1 else found


def _defining_cells(path: Path):
    """Yield (label, source) of the code cells that define the notebook's functions, e.g.
    ("Task 2.2 answer cell (`task_2_2_affine_backward`)", "def affine_backward...")."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError) as error:
        raise ImportError(f"{path} is not a readable notebook ({error}). Restore it from the release.") from error
    for number, cell in defining_cells(cells, with_locked=False):
        yield cell_label(cells, number - 1), source(cell)
