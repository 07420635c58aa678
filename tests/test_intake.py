"""Tests for autograder.grading.intake: what the grader reads of a submission folder, and how much."""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from autograder.grading.intake import (CHUNK, MAX_ENTRIES, NOTEBOOK_CELLS, SUBMISSION_BYTES, copy_regular_files,
                                       fingerprint, notebook_too_big, oversize_notebooks, regular_file_size, survey,
                                       too_big, too_many_cells)


def folder_with_everything(root: Path) -> Path:
    """Regular files (one in a subfolder), links to a file, a folder and nowhere, and a named pipe."""
    root.mkdir()
    (root / "a.ipynb").write_text("notebook")
    (root / "sub").mkdir()
    (root / "sub" / "b.txt").write_text("bb")
    (root / "to_file").symlink_to(root / "a.ipynb")
    (root / "to_folder").symlink_to(root / "sub")
    (root / "dangling").symlink_to(root / "nowhere")
    os.mkfifo(root / "pipe")   # opening it would block: nothing here may open it
    return root


def test_a_survey_counts_regular_files_and_never_follows_or_opens_anything(tmp_path):
    """Are regular files listed with their sizes, and links (to files, folders, nowhere) and pipes set apart?"""
    found = survey(folder_with_everything(tmp_path / "s"))
    assert [(path, size) for path, size, _ in found.files] == [("a.ipynb", 8), ("sub/b.txt", 2)]
    assert dict(found.others) == {"dangling": f"link to {tmp_path / 's' / 'nowhere'}", "pipe": "special file",
                                  "to_file": f"link to {tmp_path / 's' / 'a.ipynb'}",
                                  "to_folder": f"link to {tmp_path / 's' / 'sub'}"}
    assert found.total == 10 and found.complete


def test_the_fingerprint_of_plain_files_is_their_names_and_bytes(tmp_path):
    """Is the streamed fingerprint the sha256 of path, NUL, bytes, NUL per file in order (as results record it)?"""
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "a.ipynb").write_bytes(b"x" * (3 * CHUNK + 5))
    (folder / "b.txt").write_text("")
    expected = hashlib.sha256(b"a.ipynb\0" + b"x" * (3 * CHUNK + 5) + b"\0" + b"b.txt\0\0").hexdigest()
    assert fingerprint(folder) == expected


def test_the_fingerprint_sees_links_and_special_files_without_reading_them(tmp_path):
    """Does the fingerprint change with a link's target and a new pipe, and finish without opening the pipe?"""
    folder = folder_with_everything(tmp_path / "s")
    first = fingerprint(folder)
    (folder / "dangling").unlink()
    (folder / "dangling").symlink_to(folder / "elsewhere")
    second = fingerprint(folder)
    os.mkfifo(folder / "pipe2")
    assert len({first, second, fingerprint(folder)}) == 3


def test_a_folder_over_its_limit_is_refused_and_never_read(tmp_path):
    """Is a folder with a 2 GiB sparse file refused, naming the limit and the fix, and fingerprinted at once?"""
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "a.ipynb").write_text("{}")
    with open(folder / "data.bin", "wb") as handle:
        handle.truncate(2 * 2 ** 30)
    start = time.perf_counter()
    found = survey(folder)
    first = fingerprint(folder, SUBMISSION_BYTES, found)
    assert time.perf_counter() - start < 1.0   # reading 2 GiB would take seconds
    failure = too_big(found, SUBMISSION_BYTES)
    assert failure.kind == "unreadable" and failure.notebook == ""
    assert "2.0 GiB in 2 files, more than the 50.0 MiB grading reads" in failure.detail
    assert "submit only the assignment's notebooks" in failure.detail
    with open(folder / "data.bin", "r+b") as handle:
        handle.truncate(3 * 2 ** 30)
    assert fingerprint(folder) != first
    assert too_big(survey(folder / ".." / "s"), 4 * 2 ** 30) is None


def test_a_folder_with_too_many_entries_is_refused(tmp_path, monkeypatch):
    """Is a folder of more than MAX_ENTRIES files (10,000; 50 here) refused without listing them all?"""
    assert MAX_ENTRIES == 10_000
    monkeypatch.setattr("autograder.grading.intake.MAX_ENTRIES", 50)
    folder = tmp_path / "s"
    folder.mkdir()
    for number in range(51):
        (folder / f"{number}.txt").touch()
    found = survey(folder)
    assert not found.complete and len(found.files) == 50
    assert "more than 50 files and folders" in too_big(found, SUBMISSION_BYTES).detail


def test_an_oversize_notebook_is_named_with_its_size_and_the_fix(tmp_path):
    """Is a notebook over the limit found, and its failure worded for the student (as submitted and as executed)?"""
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "big.ipynb").write_bytes(b" " * (3 * 2 ** 20))
    (folder / "small.ipynb").write_text("{}")
    (folder / "big.npz").write_bytes(b" " * (3 * 2 ** 20))
    assert oversize_notebooks(survey(folder), 2 ** 20) == {"big.ipynb": 3 * 2 ** 20}
    submitted = notebook_too_big("big.ipynb", 3 * 2 ** 20, 2 ** 20)
    assert (submitted.kind, submitted.notebook) == ("unreadable", "big.ipynb")
    assert submitted.detail.startswith("is 3.0 MiB, more than the 1.0 MiB a notebook may be") and \
        "clear its outputs" in submitted.detail
    assert "its executed copy is 3.0 MiB" in notebook_too_big("big.ipynb", 3 * 2 ** 20, 2 ** 20, executed=True).detail


def test_only_regular_files_are_copied(tmp_path):
    """Are links and pipes left behind, and skipped names not copied, when a submission is copied?"""
    folder = folder_with_everything(tmp_path / "s")
    copy_regular_files(folder, tmp_path / "copy", survey(folder), skip={"a.ipynb"})
    copied = sorted(p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*"))
    assert copied == ["sub", "sub/b.txt"]


def test_a_regular_file_size_is_none_for_links_and_pipes(tmp_path):
    """Does regular_file_size give a size only for a regular file (so a pipe is never read)?"""
    folder = folder_with_everything(tmp_path / "s")
    assert [regular_file_size(folder / name) for name in ("a.ipynb", "to_file", "pipe", "gone")] == [8, None, None, None]


def test_a_notebook_of_too_many_cells_is_refused_from_its_json(tmp_path):
    """Is a notebook of 1,001 cells refused (counted from its JSON), and one of 1,000, or no notebook, let through?"""
    def notebook(cells: int) -> Path:
        path = tmp_path / f"{cells}.ipynb"
        path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ""}] * cells, "nbformat": 4}))
        return path

    failure = too_many_cells(notebook(NOTEBOOK_CELLS + 1))
    assert (failure.kind, failure.notebook) == ("unreadable", "1001.ipynb")
    assert failure.detail == "has 1001 cells, more than the 1000 a notebook may have, so it was not graded: " \
                             "delete the cells you added"
    assert too_many_cells(notebook(NOTEBOOK_CELLS)) is None
    (tmp_path / "bad.ipynb").write_text("[1, 2")
    assert too_many_cells(tmp_path / "bad.ipynb") is None
