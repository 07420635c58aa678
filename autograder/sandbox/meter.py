"""The CPU time of a whole process tree, read live from /proc.

A process's CPU time is its own (utime + stime, every thread of it, the ended ones too)
plus what its children used once it has reaped them (cutime + cstime). So the tree's
total is, over every live process of the tree, own + reaped children's time: a process
that ended counts in the one that reaped it. In a sandbox, orphans are reaped by
bubblewrap's process 1, which is part of the tree.

One gap the kernel leaves: children reaped automatically (their parent ignores SIGCHLD)
are added to nobody. So the meter also remembers each process's own time as last seen,
and reports the larger of the two sums, never less than it reported before: a process
that lived across a poll (about 0.2 s) is counted even then.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK")  # /proc counts CPU time in clock ticks


@dataclass(frozen=True)
class Stat:
    """What /proc/<pid>/stat says of one process."""
    pid: int
    ppid: int
    session: int
    started: int        # clock ticks after boot: with the pid, names one process
    own: float          # CPU seconds it used itself
    children: float     # CPU seconds of its children it has reaped


def read_stat(pid: int) -> Stat | None:
    """One process's stat, or None if it is gone."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        try:
            text = os.read(fd, 4096)
        finally:
            os.close(fd)
    except OSError:
        return None
    fields = text[text.rindex(b")") + 2:].split()   # the name, in parentheses, may hold spaces
    ticks = [int(field) for field in fields[11:15]]  # utime, stime, cutime, cstime
    return Stat(pid, int(fields[1]), int(fields[3]), int(fields[19]),
                (ticks[0] + ticks[1]) / TICKS, (ticks[2] + ticks[3]) / TICKS)


def all_processes() -> dict[int, Stat]:
    """pid -> Stat for every process this caller can see."""
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := read_stat(int(name))) is not None:
            stats[stat.pid] = stat
    return stats


def tree(root: int, stats: dict[int, Stat], session: int | None = None) -> list[Stat]:
    """`root` and every descendant of it (and every process of `session`), root first."""
    children: dict[int, list[Stat]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat)
    found = {root: stats[root]} if root in stats else {}
    if session is not None:
        found.update((s.pid, s) for s in stats.values() if s.session == session)
    todo = list(found)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child.pid not in found:
                found[child.pid] = child
                todo.append(child.pid)
    return list(found.values())


class TreeMeter:
    """CPU seconds used so far by the process tree under `root` (and, if given, the processes of `session`)."""

    def __init__(self, root: int, session: int | None = None):
        self.root, self.session = root, session
        self._own: dict[tuple[int, int], float] = {}   # (pid, started) -> own CPU seconds, last seen
        self._seconds = 0.0
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def seconds(self, max_age: float = 0.0) -> float:
        """The tree's CPU seconds; a reading taken less than `max_age` seconds ago is reused."""
        with self._lock:
            if time.monotonic() - self._read_at > max_age:
                self._update(tree(self.root, all_processes(), self.session))
            return self._seconds

    def pids(self) -> list[int]:
        """The tree's live processes, root first."""
        return [stat.pid for stat in tree(self.root, all_processes(), self.session)]

    def add(self, seconds: float) -> float:
        """Take in a total known otherwise (the root's own rusage once reaped); return the reading."""
        with self._lock:
            self._seconds = max(self._seconds, seconds)
            return self._seconds

    def _update(self, stats: list[Stat]) -> None:
        for stat in stats:
            key = stat.pid, stat.started
            self._own[key] = max(self._own.get(key, 0.0), stat.own)
        live = sum(stat.own + stat.children for stat in stats)
        self._seconds = max(self._seconds, live, sum(self._own.values()))
        self._read_at = time.monotonic()
