"""Run untrusted code (a notebook's kernel, the trusted-scoring worker) through one small API.

    run(command, scratch, limits, *, isolate=True, visible=(), env=None, stop=None) -> SandboxRun

runs `command` to its end with cwd = HOME = `scratch`, the environment `env` (by default
PATH and LANG only) and the `SandboxLimits`:

- cpu_seconds: the CPU time of the command's whole process tree, metered live (every
  process's own time plus what it reaped, polled every 0.2 s). A loaded machine makes a
  run take longer but does not change whether it fits its budget;
- wall_seconds: a backstop for code that waits (sleep, input, a lock) rather than
  computes; by default WALL_FACTOR (10) times the CPU budget;
- memory_bytes: one cap for the whole sandbox where the host delegates a cgroup v2,
  else RLIMIT_AS per process (see cgroup.py);
- max_processes, max_file_bytes: RLIMIT_NPROC and RLIMIT_FSIZE (sandboxed runs only).

With `isolate=True` (grading's default) the command runs in a bubblewrap sandbox built
from an allow-list (bwrap.py): it sees this Python, its venv, the kit's code and the
`visible` folders read-only, `scratch` read-write, nothing else of the host; no network
but loopback; an unprivileged uid. With `isolate=False` (--no-sandbox) it is a plain
child process in a session of its own, with the same CPU metering, wall backstop and
RLIMIT_AS. `SandboxRun.kind` says why it ended: None (it exited), "cpu", "wall",
"memory", "stopped" (by the caller) or "signal"; `stopped` says it in words.

`Sandbox` is the same as a live object, for callers that talk to the command while it
runs: `start()`, `cpu_seconds()` (live, whole tree), `running()`, `stop()`, `wait()`;
as a context manager it starts and, on leaving, stops and waits.

`sandbox_unavailable()` is None when sandboxes can be made here, else what is missing.
"""
from .check import sandbox_unavailable
from .ending import SandboxRun
from .limits import WALL_FACTOR, SandboxLimits
from .runner import MAX_OUTPUT, Sandbox, run

__all__ = ["MAX_OUTPUT", "WALL_FACTOR", "Sandbox", "SandboxLimits", "SandboxRun", "run", "sandbox_unavailable"]
