"""Put a submitted notebook back into the release's shape before it runs, and say what was changed.

nbgrader restores the source of a locked or test cell only when the cell is still there
under its grade_id: a deleted test cell is never run (nbgrader then waits for manual
grading forever), a duplicated or moved one runs wherever the student put it. Here every
cell the student may not change (locked cells, test cells) is taken from the release,
every missing one is put back, and all of them stand in the release's order; answer
cells keep the student's source under the release's metadata, and the student's own
extra cells stay after the cell they followed. Whatever differed is reported as
tampering, naming the cell; nbgrader's checksums reveal edits.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.utils import compute_checksum

from nn_helpers.cells import grade_id, is_answer

from ..results import Flag


def restore_notebook(submitted: NotebookNode, release: NotebookNode,
                     name: str) -> tuple[NotebookNode, list[Flag]]:
    """The submission in the release's shape (a new notebook), and the tampering undone to get there.

    `release` is the notebook as nbgrader released it: its nbgrader cells carry checksums.
    """
    flags: list[Flag] = []
    release_cells = [cell for cell in release.cells if grade_id(cell)]
    known = {grade_id(cell): cell for cell in release_cells}
    kept, followers, leading = _split(submitted.cells, known, name, flags)
    _flag_moved([gid for gid in kept], [grade_id(c) for c in release_cells], name, flags)

    cells = list(leading)
    for original in release_cells:
        gid = grade_id(original)
        mine = kept.get(gid)
        if mine is None:
            cells.append(_copy(original))
            flags.append(Flag(name, gid, "was deleted; restored from the release"))
            continue
        cells.append(_restored(mine, original, name, flags))
        cells.extend(followers.get(gid, []))
    restored = _copy(submitted)
    restored.cells = cells
    return restored, flags


def _split(cells, known: dict, name: str, flags: list[Flag]):
    """The first student cell of each release grade_id, the extra cells after each, the ones before all."""
    kept, followers, leading, anchor = {}, {}, [], None
    for cell in cells:
        gid = grade_id(cell)
        if gid in known and gid not in kept:
            kept[gid], anchor = cell, gid
        elif gid in known:
            flags.append(Flag(name, gid, "was duplicated; the copy was removed"))
        else:  # the student's own cell (or one whose nbgrader metadata was removed): it stays where it was
            (followers.setdefault(anchor, []) if anchor else leading).append(cell)
    return kept, followers, leading


def _flag_moved(submitted_order: list[str], release_order: list[str], name: str, flags: list[Flag]) -> None:
    """Flag each cell that comes before one it follows in the release."""
    rank = {gid: index for index, gid in enumerate(release_order)}
    furthest = -1
    for gid in submitted_order:
        if rank[gid] < furthest:
            flags.append(Flag(name, gid, "was moved; put back in the release's order"))
        furthest = max(furthest, rank[gid])


def _restored(mine, original, name: str, flags: list[Flag]):
    """The cell to grade: the release's for locked and test cells, the student's source for answers."""
    gid = grade_id(original)
    metadata_changed = mine.metadata.get("nbgrader") != original.metadata.get("nbgrader") or \
        mine.cell_type != original.cell_type
    if is_answer(original):
        cell = _copy(original)
        cell.source = mine.source
        if metadata_changed:
            flags.append(Flag(name, gid, "had its nbgrader metadata changed; restored from the release"))
        return cell
    if compute_checksum(mine) != original.metadata["nbgrader"].get("checksum", compute_checksum(original)):
        flags.append(Flag(name, gid, "was edited (its checksum differs from the release's); restored"))
    elif metadata_changed:
        flags.append(Flag(name, gid, "had its nbgrader metadata changed; restored from the release"))
    return _copy(original)


def _copy(node) -> NotebookNode:
    return nbformat.from_dict(copy.deepcopy(node))


def restore_folder(submitted: Path, release: Path) -> list[Flag]:
    """Restore, in place, every notebook of `submitted` that the release has; return the tampering undone."""
    flags = []
    for path in sorted(Path(submitted).glob("*.ipynb")):
        if (Path(release) / path.name).exists():
            restored, found = restore_notebook(nbformat.read(path, as_version=4),
                                               nbformat.read(Path(release) / path.name, as_version=4), path.name)
            nbformat.write(restored, path)
            flags += found
    return flags
