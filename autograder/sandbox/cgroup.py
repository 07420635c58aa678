"""One memory cap for a whole sandbox: a cgroup v2 of its own, where the host delegates one.

`MemoryCap.create` makes a cgroup for one sandbox under the first cgroup, from the
caller's own up, that uses the v2 memory controller for its children and that the
caller may write (a systemd user session delegates its own subtree; root may write
anywhere). It sets `memory.max` to the cap and `memory.swap.max` to 0; the sandbox's
processes are moved into it before the command starts. Every process of the sandbox
then shares the one cap; past it the kernel's OOM killer ends one of them (usually the
largest, the notebook's kernel), and `memory.events` records it.

Fallback: on hosts with cgroup v1 only, or no delegated v2 subtree (an ordinary user
without a systemd session, most containers), `create` returns None and the cap is
RLIMIT_AS instead, set for each process of the sandbox: each process may map at most
the cap, so several processes together can use more (the notebook's kernel, which
holds the data, is the one that matters), and an allocation past it fails with
MemoryError rather than a kill.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import time
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")
OWN_CGROUP = Path("/proc/self/cgroup")
_names = itertools.count()


def cgroup2_mount(mountinfo: str) -> tuple[Path, str] | None:
    """(mount point, root of the mount in the hierarchy) of the first cgroup v2 mount, or None."""
    for line in mountinfo.splitlines():
        fields, _, tail = line.partition(" - ")
        fields = fields.split()
        if tail.split()[:1] == ["cgroup2"] and len(fields) >= 5:
            return Path(fields[4]), fields[3]
    return None


def own_cgroup(cgroups: str) -> str | None:
    """The caller's cgroup v2 path ("0::/user.slice/..."), or None on a v1-only host."""
    for line in cgroups.splitlines():
        if line.startswith("0::"):
            return line[3:]
    return None


def delegated_parent(mountinfo: str | None = None, cgroups: str | None = None) -> Path | None:
    """The cgroup folder sandboxes' cgroups go under, or None when the host delegates none.

    From the caller's own cgroup up to the mount's root: the first that enables the
    memory controller for its children and whose folder and cgroup.procs the caller may
    write (moving a process needs write access to the common ancestor's cgroup.procs).
    """
    mount = cgroup2_mount(MOUNTINFO.read_text() if mountinfo is None else mountinfo)
    path = own_cgroup(OWN_CGROUP.read_text() if cgroups is None else cgroups)
    if mount is None or path is None:
        return None
    point, root = mount
    relative = os.path.relpath(path, root)
    if relative.startswith(".."):
        return None
    folder = (point / relative).resolve()
    for candidate in [folder, *folder.parents]:
        if not candidate.is_relative_to(point):
            break
        with contextlib.suppress(OSError):
            if "memory" in (candidate / "cgroup.subtree_control").read_text().split() and \
                    os.access(candidate, os.W_OK) and os.access(candidate / "cgroup.procs", os.W_OK):
                return candidate
    return None


class MemoryCap:
    """A cgroup that caps the memory of every process put in it, together."""

    def __init__(self, folder: Path, limit_bytes: int):
        self.folder, self.limit_bytes = folder, limit_bytes

    @classmethod
    def create(cls, limit_bytes: int, parent: Path | None = None) -> MemoryCap | None:
        """A new capped cgroup under `parent` (by default `delegated_parent()`); None when none can be made."""
        parent = delegated_parent() if parent is None else parent
        if parent is None:
            return None
        folder = parent / f"kit-sandbox-{os.getpid()}-{next(_names)}"
        try:
            folder.mkdir()
            (folder / "memory.max").write_text(str(limit_bytes))
            if (folder / "memory.swap.max").exists():
                (folder / "memory.swap.max").write_text("0")
        except OSError:
            with contextlib.suppress(OSError):
                folder.rmdir()
            return None
        return cls(folder, limit_bytes)

    def add(self, pid: int) -> None:
        """Move process `pid` into the cgroup (its children forked from then on follow it)."""
        (self.folder / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        """How many processes the OOM killer ended in this cgroup."""
        with contextlib.suppress(OSError):
            for line in (self.folder / "memory.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def cpu_seconds(self) -> float:
        """CPU seconds used by every process that was in the cgroup (0 if unknown)."""
        with contextlib.suppress(OSError, ValueError):
            for line in (self.folder / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
        return 0.0

    def remove(self) -> None:
        """Delete the cgroup once its processes are gone (the kernel may take a moment to let go)."""
        for _ in range(50):
            try:
                self.folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)
