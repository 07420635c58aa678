"""How a command ended, in plain words: the `SandboxRun` a Sandbox hands back."""
from __future__ import annotations

import signal
from dataclasses import dataclass

# The last lines of a command that failed for lack of memory under RLIMIT_AS say one of these.
MEMORY_SIGNS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc")


@dataclass
class SandboxRun:
    """How a command ended."""
    returncode: int | None   # its exit code; None when it did not exit by itself (see kind)
    output: str              # stdout and stderr merged, the last MAX_OUTPUT bytes
    stopped: str | None      # None, or in plain words what ended it: "used more than 60 s of CPU time ..."
    kind: str | None = None  # None, "cpu", "wall", "memory", "stopped" (by the caller) or "signal"
    cpu_seconds: float = 0.0  # CPU time its whole process tree used


def describe(exit_code: int, output: str, killed_for: str | None, oom_killed: bool, cpu_seconds: float,
             limits, shell_signals: bool) -> SandboxRun:
    """The SandboxRun of a command that ended with `exit_code` (negative: killed by that signal).

    `killed_for` is why the sandbox killed it (cpu, wall, stopped), if it did; `oom_killed`
    whether the kernel's OOM killer ended a process of it. With `shell_signals`, an exit
    code 128 + N means signal N (bubblewrap's process 1 reports a killed command so).
    Running out of memory is reported as such whatever else happened.
    """
    signum = -exit_code if exit_code < 0 else 0
    if shell_signals and 128 < exit_code <= 128 + signal.SIGRTMAX:
        signum = exit_code - 128
    exited = killed_for is None and not signum
    last_lines = "\n".join(output.strip().splitlines()[-3:])
    if oom_killed or (exited and exit_code != 0 and any(sign in last_lines for sign in MEMORY_SIGNS)):
        kind, words = "memory", f"ran out of memory (its cap is {_size(limits.memory_bytes)})"
    elif killed_for == "cpu":
        kind, words = "cpu", f"used more than {limits.cpu_seconds:g} s of CPU time and was stopped"
    elif killed_for == "wall":
        kind, words = "wall", (f"was stopped after {limits.wall:g} s of wall-clock time without using its CPU "
                               "budget: it was waiting (sleep, input, a lock)")
    elif killed_for == "stopped":
        kind, words = "stopped", "was stopped by the grader"
    elif signum:
        kind, words = "signal", f"was killed by signal {signum} ({signal.strsignal(signum) or 'unknown'})"
    else:
        kind, words = None, None
    return SandboxRun(exit_code if exited else None, output, words, kind, cpu_seconds)


def _size(size: int) -> str:
    return f"{size / 2 ** 30:g} GiB" if size >= 2 ** 30 else f"{size / 2 ** 20:g} MiB"
