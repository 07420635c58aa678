"""What the grader reads of a submission folder: regular files, within size limits, hashed by streaming.

A submission folder is the student's: it may hold symbolic links, named pipes, devices, a
sparse file of terabytes or a notebook of hundreds of megabytes. `survey` looks at every
entry without following links or opening anything; only regular files count, by their
apparent size (a sparse file counts in full). A folder over its limit is read no further:
not copied, and fingerprinted from names, sizes and times instead of contents. A notebook
over its limit is not copied either. Everything else is copied and hashed 1 MiB at a time.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from ..results import Failure

CHUNK = 2 ** 20                     # bytes read at a time when hashing
MAX_ENTRIES = 10_000                # files and folders of one submission, beyond which it is not looked at further
SUBMISSION_BYTES = 50 * 2 ** 20     # default limit of a submission folder's regular files, together
NOTEBOOK_BYTES = 10 * 2 ** 20       # default limit of one notebook, as submitted and as executed
NOTEBOOK_CELLS = 1000               # cells of one notebook (the release's have under 100); each pass over more costs seconds


@dataclass(frozen=True)
class Survey:
    """The entries of a submission folder, as lstat sees them."""
    files: tuple[tuple[str, int, int], ...]   # (relative path, apparent size, mtime_ns) of each regular file, sorted
    others: tuple[tuple[str, str], ...]       # (relative path, what it is) of links, pipes, devices: never read
    complete: bool = True                     # False when the folder held more than MAX_ENTRIES entries

    @property
    def total(self) -> int:
        return sum(size for _, size, _ in self.files)


def survey(folder: Path) -> Survey:
    """Every entry under `folder`, without following links or opening files (at most MAX_ENTRIES)."""
    files, others, pending, seen = [], [], [Path(folder)], 0
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                seen += 1
                if seen > MAX_ENTRIES:
                    return Survey(tuple(sorted(files)), tuple(sorted(others)), complete=False)
                relative = Path(entry.path).relative_to(folder).as_posix()
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    pending.append(Path(entry.path))
                elif stat.S_ISREG(info.st_mode):
                    files.append((relative, info.st_size, info.st_mtime_ns))
                else:
                    others.append((relative, _kind(entry.path, info.st_mode)))
    return Survey(tuple(sorted(files)), tuple(sorted(others)))


def _kind(path: str, mode: int) -> str:
    if stat.S_ISLNK(mode):
        return f"link to {os.readlink(path)}"
    return "special file"


def fingerprint(folder: Path, limit: int = SUBMISSION_BYTES, found: Survey | None = None) -> str:
    """sha256 over the relative paths and bytes of every regular file (1 MiB at a time), and the other entries.

    A folder larger than `limit` bytes (or with too many entries) is hashed from its files'
    names, sizes and modification times: none of it is read.
    """
    found = found or survey(folder)
    readable = found.complete and found.total <= limit
    digest = hashlib.sha256()
    if not readable:
        digest.update(b"not read\0")
    for relative, size, mtime in found.files:
        digest.update(relative.encode() + b"\0")
        if readable:
            with open(Path(folder) / relative, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
        else:
            digest.update(f"{size} {mtime}".encode())
        digest.update(b"\0")
    for relative, kind in found.others:
        digest.update(f"{relative}\0{kind}\0".encode())
    return digest.hexdigest()


def too_big(found: Survey, limit: int) -> Failure | None:
    """The failure of a submission folder the grader will not read (too large, too many entries), or None."""
    if not found.complete:
        return Failure("unreadable", "", f"the submission folder holds more than {MAX_ENTRIES} files and folders, "
                                         "so none of it was graded: submit only the assignment's notebooks")
    if found.total > limit:
        return Failure("unreadable", "", f"the submission folder holds {_megabytes(found.total)} in "
                                         f"{len(found.files)} files, more than the {_megabytes(limit)} grading reads, "
                                         "so none of it was graded: submit only the assignment's notebooks "
                                         "(no datasets, saved models or other large files)")
    return None


def oversize_notebooks(found: Survey, limit: int) -> dict[str, int]:
    """Notebook (relative path) -> size, for every notebook larger than `limit` bytes."""
    return {relative: size for relative, size, _ in found.files if relative.endswith(".ipynb") and size > limit}


def notebook_too_big(name: str, size: int, limit: int, executed: bool = False) -> Failure:
    """Why a notebook larger than `limit` was not graded, and what to do about it."""
    if executed:
        return Failure("unreadable", name, f"its executed copy is {_megabytes(size)}, more than the "
                                           f"{_megabytes(limit)} a notebook may be, so it was not graded: "
                                           "print less (e.g. fewer progress lines while training)")
    return Failure("unreadable", name, f"is {_megabytes(size)}, more than the {_megabytes(limit)} a notebook may be, "
                                       "so it was not graded: clear its outputs (Kernel > Restart & Clear Output "
                                       "or smaller plots), save it and submit it again")


def too_many_cells(path: Path, limit: int = NOTEBOOK_CELLS) -> Failure | None:
    """The failure of a notebook with more than `limit` cells, or None (also for text that is no notebook at all).

    Reading and validating a notebook of 100,000 empty cells takes nbformat a minute, and
    grading reads each notebook several times: the count is taken from the plain JSON first.
    """
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells")
    except (ValueError, UnicodeDecodeError, AttributeError, RecursionError):
        return None
    if isinstance(cells, list) and len(cells) > limit:
        return Failure("unreadable", Path(path).name, f"has {len(cells)} cells, more than the {limit} a notebook may "
                                                      "have, so it was not graded: delete the cells you added")
    return None


def copy_regular_files(folder: Path, target: Path, found: Survey, skip: set[str] = frozenset()) -> None:
    """Copy the surveyed regular files of `folder` (but `skip`) into `target`; links and special files stay behind."""
    for relative, _, _ in found.files:
        if relative in skip:
            continue
        destination = Path(target) / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(folder) / relative, destination, follow_symlinks=False)


def regular_file_size(path: Path) -> int | None:
    """The size of `path` if it is a regular file (not a link, pipe or device), else None."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _megabytes(size: int) -> str:
    return f"{size / 2 ** 20:.1f} MiB" if size < 2 ** 30 else f"{size / 2 ** 30:.1f} GiB"
