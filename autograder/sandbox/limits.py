"""What one sandboxed (or plain) command may use."""
from __future__ import annotations

from dataclasses import dataclass

WALL_FACTOR = 10   # the wall-clock backstop, in CPU budgets


@dataclass(frozen=True)
class SandboxLimits:
    """What one command may use."""
    cpu_seconds: float = 900.0         # CPU time of its whole process tree
    wall_seconds: float | None = None  # the backstop for code that waits; None: WALL_FACTOR * cpu_seconds
    memory_bytes: int = 6 * 2 ** 30    # the cgroup's memory.max, else RLIMIT_AS of each process (cgroup.py)
    max_processes: int = 256           # RLIMIT_NPROC: processes and threads (sandboxed only)
    max_file_bytes: int = 2 * 2 ** 30  # RLIMIT_FSIZE, and the size of each private tmpfs (sandboxed only)

    @property
    def wall(self) -> float:
        return WALL_FACTOR * self.cpu_seconds if self.wall_seconds is None else self.wall_seconds
