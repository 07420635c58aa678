"""What each cell of an assignment notebook is, decided in one place for every reader.

The roles follow nbgrader's own definitions (`nbgrader.utils.is_solution`, `is_grade`,
`is_locked`; a test checks that they agree) but need no nbgrader, so that the helper
package students install (on Colab, say) and the grader's sandboxed worker can use them.
A cell is a notebook cell as `nbformat` reads it or as plain JSON (a dict).

- answer:   the student writes it (nbgrader `solution`);
- test:     an autograded test cell (nbgrader `grade`, not `solution`);
- locked:   a cell the student may not change that is not a test (setup, helpers, saving);
- training: tagged `training`: trains a model; its results reach the tests as saved files;
- export:   tagged `export`: a plain cell whose definitions other notebooks load.
"""
from __future__ import annotations

import functools
import re
import sys

TRAINING_TAG = "training"
EXPORT_TAG = "export"
# Files the training cells save; the grader evaluates them, and they never belong in a
# source, a release or the repository (see .gitignore and nbgrader_config.py).
SAVED_MODEL_FILES = ("overfit_model.npz", "net.npz", "best_model.npz")


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", []) or []


def source(cell) -> str:
    """A cell's source as one string (JSON notebooks may hold a list of lines)."""
    text = cell.get("source", "")
    return text if isinstance(text, str) else "".join(text)


def grade_id(cell) -> str | None:
    return _meta(cell).get("grade_id")


def is_code(cell) -> bool:
    return cell.get("cell_type") == "code"


def is_answer(cell) -> bool:
    return bool(_meta(cell).get("solution"))


def is_graded(cell) -> bool:
    """Carries points: a test cell, or an answer graded by hand (nbgrader's is_grade)."""
    return bool(_meta(cell).get("grade"))


def is_test(cell) -> bool:
    """An autograded test cell (nbgrader: grade and not solution)."""
    return is_graded(cell) and not is_answer(cell)


def is_locked(cell) -> bool:
    """Read-only for the student: tests and locked cells (nbgrader's is_locked)."""
    return not is_answer(cell) and (is_test(cell) or bool(_meta(cell).get("locked")))


def is_training(cell) -> bool:
    return TRAINING_TAG in _tags(cell)


def is_export(cell) -> bool:
    return EXPORT_TAG in _tags(cell)


def defining_cells(cells, with_locked: bool) -> list[tuple[int, dict]]:
    """(cell number from 1, cell) of the code cells that define what other code uses, in order.

    Answer and export cells always; locked helper cells (setup, imports) when `with_locked`.
    Never test cells, nor training cells (their results reach the tests as saved files).
    """
    chosen = []
    for number, cell in enumerate(cells, start=1):
        if not is_code(cell) or is_test(cell) or is_training(cell):
            continue
        if is_answer(cell) or is_export(cell) or (with_locked and is_locked(cell)):
            chosen.append((number, cell))
    return chosen


HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
NBGRADER_MARKER = re.compile(r"^#+\s*(BEGIN|END)\s+(SOLUTION|HIDDEN TESTS)\b")
ORDINALS = ("", "2nd ", "3rd ")


def heading(cell) -> str:
    """The last Markdown heading of a cell the student did not write ('' for any other cell)."""
    if cell.get("cell_type") != "markdown" or is_answer(cell):
        return ""
    found = ""
    for line in source(cell).splitlines():
        match = HEADING.match(line.strip())
        if match and not NBGRADER_MARKER.match(line.strip()):
            found = match.group(1)
    return found


def cell_label(cells, index: int) -> str:
    """How the student finds cell `cells[index]` (from 0) in JupyterLab, which shows no cell numbers.

    By its section heading and grade_id, e.g. "Task 1.1 answer cell (`task_1_1_gates`)"
    for a cell under "## Task 1.1: The three gate patterns"; a cell without a grade_id
    (one the student added, a plain demo cell) is "the code cell after 'Debugging the
    training'" ("the 2nd code cell after ..." for the next one; cells with a grade_id are not counted).
    """
    cell, title, code_cells = cells[index], "", 0
    for earlier in reversed(cells[:index + 1]):
        if heading(earlier):
            title = heading(earlier)
            break
        code_cells += is_code(earlier) and not grade_id(earlier)
    if grade_id(cell):
        role = "answer cell" if is_answer(cell) else "test cell" if is_test(cell) else "cell"
        section = title.split(":")[0].strip()
        return f"{section} {role} (`{grade_id(cell)}`)" if section else f"the {role} `{grade_id(cell)}`"
    if not title:   # no heading above it: its place among all code cells
        code_cells = sum(map(is_code, cells[:index + 1]))
        return f"the {_ordinal(code_cells) or 'first '}code cell of the notebook"
    return f"the {_ordinal(code_cells)}code cell after '{title}'"


def _ordinal(count: int) -> str:
    return ORDINALS[count - 1] if 0 < count <= len(ORDINALS) else f"{count}th "


@functools.lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager()


def python_source(source: str) -> str:
    """A cell's source as plain Python: IPython magics become calls to a get_ipython() that does nothing."""
    return _transformer().transform_cell(source)


class NoIPython:
    """Stands in for get_ipython() outside a kernel: line magics (%matplotlib inline) do nothing;
    the body of a timing cell magic (%%time, %%timeit, %%capture) runs once, as plain Python."""
    BODY_RUNS = ("time", "timeit", "capture")

    def run_cell_magic(self, magic: str, line: str, cell: str) -> None:
        if magic in self.BODY_RUNS:   # in the namespace of the cell that holds the magic
            exec(compile(python_source(cell), "<cell magic>", "exec"), sys._getframe(1).f_globals)

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


# The file name load_from_notebook gives the code of a cell it runs, "2_layers.ipynb (Task 2.1
# answer cell (`task_2_1`))", and what it looks like as Python and IPython print it in a traceback.
LOADED_CELL = re.compile(r"^(\S+\.ipynb) \((.+)\)$")
LOADED_FRAME = re.compile(r"^File (\S+\.ipynb) \((.+)\):(\d+), in (\w+)")


def loaded_cell_name(notebook: str, label: str) -> str:
    """The file name of a cell that load_from_notebook runs (LOADED_CELL reads it back)."""
    return f"{notebook} ({label})"


def raised_in(function: str, line: int | str, code: str = "", notebook: str = "", label: str = "") -> str:
    """Where the student's code raised: 'raised in affine_backward, line 18: dw = x @ dout', or, in a
    notebook load_from_notebook ran, 'raised in f (2_layers.ipynb, <cell label>, line 3)'."""
    if notebook:
        return f"raised in {function} ({notebook}, {label}, line {line})"
    return f"raised in {function}, line {line}" + (f": {code.strip()}" if code.strip() else "")
