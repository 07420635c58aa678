"""What a starting sandbox reads and changes: bwrap's report of its process 1, the marker line, scratch's owner."""
from __future__ import annotations

import contextlib
import json
import os
import select
from pathlib import Path

SETUP_SECONDS = 60   # bwrap sets a sandbox up in well under a second


def read_init(info: int) -> int | None:
    """bwrap's process 1, from the JSON bwrap writes to its info descriptor (None if bwrap ended first)."""
    text = b""
    while select.select([info], [], [], SETUP_SECONDS)[0] and (chunk := os.read(info, 4096)):
        text += chunk
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return int(json.loads(text)["child-pid"])
    return None


def read_marker(output: int, marker: bytes) -> tuple[bytes, bool]:
    """Read `output` up to the marker line: (what came before it, whether it came)."""
    data = b""
    while marker + b"\n" not in data and select.select([output], [], [], SETUP_SECONDS)[0]:
        chunk = os.read(output, 2 ** 16)
        if not chunk:
            return data, False
        data += chunk
    before, found, after = data.partition(marker + b"\n")
    return before + after, bool(found)


def chown_tree(root: Path, uid: int, gid: int) -> None:
    """chown root and everything under it, never following a symbolic link."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)
    os.chown(root, uid, gid)
