"""Run one untrusted command (a notebook executed by a Jupyter kernel) in a throwaway Linux sandbox.

`run_sandboxed` starts the command as root through `unshare`, in new namespaces:

- network: only the loopback interface, brought up so that nbclient and the kernel can
  talk over 127.0.0.1; nothing outside the sandbox can be reached;
- mount (private, so nothing propagates back): every hidden path is covered (an empty
  read-only tmpfs over a folder, /dev/null over a file), and /tmp, /var/tmp, /run/lock,
  /dev/shm and /root are replaced by fresh empty tmpfs. The scratch folder, and the Python
  installation the grader runs on, are bound back at their own paths when one of those
  held them (pyenv installs Python under /root, which other users cannot enter);
- pid and ipc: a root shell is process 1; it runs the command as an unprivileged uid
  (no groups, no_new_privs) under rlimits, and reaps orphans. When process 1 ends, or is
  killed, the kernel kills every process left in the sandbox;
- wall clock, from outside: past it, the sandbox's process group, process 1 included, is
  killed (and, should the caller die first, `timeout` kills the command 10 s later).

Needs root, util-linux, iproute2 and coreutils: `sandbox_unavailable` says what is missing.
"""
from __future__ import annotations

import contextlib
import os
import select
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

FIRST_UID = 200_000
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
TOOLS = ("unshare", "mount", "mkdir", "ip", "timeout", "prlimit", "setpriv")
# Fresh tmpfs in every sandbox (folder -> mode). Shared, the world-writable ones would let
# sandboxes see or leave files for each other; /root is closed to other users anyway, and
# covering it is what lets the interpreter pyenv installs there be brought back.
COVERED = {"/tmp": "1777", "/var/tmp": "1777", "/run/lock": "1777", "/dev/shm": "1777", "/root": "0755"}
MAX_OUTPUT = 2 ** 20  # bytes of output kept (the tail)
READY_FD = 3          # the setup writes a line here just before it starts the command


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandboxed command may use."""
    wall_seconds: float = 900.0        # whole run; then every process in the sandbox is killed
    cpu_seconds: int = 1800            # RLIMIT_CPU per process
    memory_bytes: int = 6 * 2 ** 30    # RLIMIT_AS per process
    max_processes: int = 256           # RLIMIT_NPROC for the sandbox's own uid (threads count too)
    max_file_bytes: int = 2 * 2 ** 30  # RLIMIT_FSIZE, and the size of each private tmpfs


@dataclass
class SandboxRun:
    """How a sandboxed command ended."""
    returncode: int | None  # the command's exit code; None when it did not exit by itself (see stopped)
    output: str             # stdout and stderr merged, the last MAX_OUTPUT bytes
    stopped: str | None     # None, or in plain words what stopped the command


def sandbox_unavailable() -> str | None:
    """None when sandboxes can be made here; otherwise why not and what to do."""
    if os.geteuid() != 0:
        return "sandboxes need root (namespaces, mounts, a uid switch): run the grader as root, e.g. in its container"
    missing = [tool for tool in TOOLS if not shutil.which(tool, path=SYSTEM_PATH)]
    if missing:
        return f"{', '.join(missing)} not found: install util-linux, iproute2 and coreutils"
    with tempfile.TemporaryDirectory(prefix="sandbox-check-") as scratch:
        try:
            run = run_sandboxed(["true"], Path(scratch), SandboxLimits(wall_seconds=30))
        except RuntimeError as error:
            return f"{error} (are namespaces allowed here? an unprivileged container forbids them)"
    if run.returncode != 0:
        return f"a trial sandboxed `true` failed ({run.stopped or run.returncode}): {run.output.strip()[-300:]}"
    return None


def run_sandboxed(command: list[str], scratch: Path, limits: SandboxLimits, hidden: Iterable[Path] = (),
                  env: dict[str, str] | None = None, uid: int | None = None,
                  visible: Iterable[Path] = (), stop: threading.Event | None = None) -> SandboxRun:
    """Run `command` with cwd=scratch inside a fresh sandbox; never raises for what the command does.

    The command runs as `uid` (and the same gid), by default one no other live sandbox uses;
    scratch belongs to it during the run and is given back to the caller afterwards. It gets
    `env`, or PATH and LANG, plus HOME=scratch unless `env` sets HOME. `visible` folders (the
    kit, the dataset) stay readable even under a folder the sandbox replaces, like /tmp or
    /root; so do this Python and its virtual environment. Setting `stop` (from another
    thread) kills the sandbox early. Raises RuntimeError if the sandbox cannot be set up
    (see `sandbox_unavailable`).
    """
    scratch = Path(scratch).resolve()
    # Native thread ids are unique among live threads, so sandboxes running at once get
    # distinct uids: RLIMIT_NPROC counts every process of a uid, wherever it runs.
    uid = FIRST_UID + threading.get_native_id() if uid is None else uid
    if env is None:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    env = {"HOME": str(scratch), **env}
    script = _setup_script(scratch, [Path(path).resolve() for path in hidden], limits, uid,
                           [Path(path).resolve() for path in visible])
    argv = [_tool("unshare"), "--net", "--mount", "--propagation=private", "--pid", "--fork", "--kill-child",
            "--mount-proc", "--ipc", "/bin/sh", "-c", script, "sandbox", *command]
    _chown_tree(scratch, uid, uid)
    try:
        output, killed, exit_code, set_up = _spawn(argv, env, limits.wall_seconds, stop)
    finally:
        _chown_tree(scratch, os.geteuid(), os.getegid())
    if killed and stop is not None and stop.is_set():
        return SandboxRun(None, output, "was stopped by the grader")
    if killed:
        return SandboxRun(None, output, f"ran past the {limits.wall_seconds:g} s wall-clock limit and was stopped")
    if not set_up:
        raise RuntimeError(f"the sandbox could not be set up: {output.strip()[-500:]}")
    return _ending(exit_code, output, limits)


def _tool(name: str) -> str:
    """The absolute path of a system tool, so that the command's PATH cannot matter to the setup."""
    path = shutil.which(name, path=SYSTEM_PATH)
    if path is None:
        raise RuntimeError(f"the sandbox could not be set up: {name} not found")
    return path


def _setup_script(scratch: Path, hidden: list[Path], limits: SandboxLimits, uid: int,
                  visible: list[Path] = ()) -> str:
    """The shell script process 1 runs as root: lo up, mounts, then the command ("$@") as `uid`."""
    mount, q = _tool("mount"), shlex.quote
    lines = ["set -e", f"{_tool('ip')} link set lo up"]
    for path in hidden:
        if path.is_dir():
            lines.append(f"{mount} -t tmpfs -o ro,nosuid,nodev hidden {q(str(path))}")
        elif path.exists():
            lines.append(f"{mount} --bind /dev/null {q(str(path))}")
    # Folders to bring back once the covers are on: held open first, bound back from the handle.
    wanted = [scratch, Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), *visible]
    kept = [p for p in dict.fromkeys(wanted) if p.exists() and any(p.is_relative_to(c) for c in COVERED)]
    handles = {path: READY_FD + 1 + i for i, path in enumerate(kept)}
    lines += [f"exec {fd}< {q(str(path))}" for path, fd in handles.items()]
    lines += [f"{mount} -t tmpfs -o mode={mode},size={limits.max_file_bytes},nosuid,nodev sandbox {q(folder)}"
              for folder, mode in COVERED.items() if os.path.isdir(folder)]
    for path, fd in handles.items():
        lines += [f"{_tool('mkdir')} -p {q(str(path))}",
                  f"{mount} --no-canonicalize --rbind /proc/self/fd/{fd} {q(str(path))}",
                  f"exec {fd}<&-"]  # left open, it would lead the command back to the real /tmp
    cpu = limits.cpu_seconds
    lines += [f"cd {q(str(scratch))}", "unset OLDPWD PWD", f"echo >&{READY_FD}", f"exec {READY_FD}>&-",
              # timeout is a safety net should the caller die before its wall clock; it only
              # signals its own process group. At the soft CPU limit SIGXCPU (which names the
              # cause), a second later SIGKILL.
              f"{_tool('timeout')} --signal=KILL {limits.wall_seconds + 10:g}"
              f" {_tool('prlimit')} --as={limits.memory_bytes} --cpu={cpu}:{cpu + 1} --nproc={limits.max_processes}"
              f" --fsize={limits.max_file_bytes} --core=0"
              f' -- {_tool("setpriv")} --reuid={uid} --regid={uid} --clear-groups --no-new-privs -- "$@"']
    return "\n".join(lines)


def _spawn(argv: list[str], env: dict[str, str], wall_seconds: float,
           stop: threading.Event | None = None) -> tuple[str, bool, int, bool]:
    """Start the sandbox in a session of its own and wait for its end.

    Returns its output, whether it was killed at the wall-clock limit, its exit code, and
    whether the setup finished (process 1 writes a line to READY_FD just before the command).
    """
    output_r, output_w = os.pipe()
    ready_r, ready_w = os.pipe()
    with open(output_r, "rb", buffering=0) as output, open(ready_r, "rb", buffering=0) as ready:
        try:
            pid = os.posix_spawn(argv[0], argv, env, setsid=True, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, output_w, 1),
                (os.POSIX_SPAWN_DUP2, output_w, 2), (os.POSIX_SPAWN_DUP2, ready_w, READY_FD)])
        finally:
            os.close(output_w)
            os.close(ready_w)
        text, killed = _collect(pid, output.fileno(), wall_seconds, stop)
        exit_code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        return text, killed, exit_code, ready.read(1) == b"\n"


def _collect(pid: int, output: int, wall_seconds: float, stop: threading.Event | None = None) -> tuple[str, bool]:
    """Read the sandbox's output until it has ended, killing it at the wall-clock limit (or once `stop` is set).

    Returns the output (its tail) and whether it was killed. The pipe reaches its end only
    when every process of the sandbox has closed it.
    """
    deadline = time.monotonic() + wall_seconds
    tail, received, killed = bytearray(), 0, False
    pidfd = os.pidfd_open(pid)
    waiting = [output, pidfd]
    while waiting:
        timeout = None if killed else max(0.0, deadline - time.monotonic())
        if stop is not None and not killed:
            timeout = min(timeout, 0.05)   # polled: an Event cannot wake select
        ready, _, _ = select.select(waiting, [], [], timeout)
        stopped = stop is not None and stop.is_set() and pidfd in waiting
        if not killed and (time.monotonic() >= deadline or stopped):
            _kill(pid)
            killed = True
        if pidfd in ready:
            waiting.remove(pidfd)
        if output in ready:
            chunk = os.read(output, 2 ** 16)
            received += len(chunk)
            tail += chunk
            del tail[:-MAX_OUTPUT]
            if not chunk:
                waiting.remove(output)
    os.close(pidfd)
    cut = f"[... the first {received - len(tail)} bytes of output were cut ...]\n" if received > len(tail) else ""
    return cut + tail.decode(errors="replace"), killed


def _kill(pid: int) -> None:
    """Kill the sandbox that unshare `pid` runs, and wait until every process of it has ended.

    Killing unshare's process group kills process 1 too, and with it the rest of the pid
    namespace; but unshare ends at once, while process 1 ends only once the rest has.
    """
    process_one = None
    for stat in Path("/proc").glob("[0-9]*/stat"):  # process 1 is unshare's only child
        with contextlib.suppress(OSError):  # that process ended meanwhile
            if stat.read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                process_one = os.pidfd_open(int(stat.parent.name))
    os.killpg(pid, signal.SIGKILL)  # unshare is not reaped yet, so its group is still the sandbox's
    if process_one is not None:
        select.select([process_one], [], [])
        os.close(process_one)


def _ending(exit_code: int, output: str, limits: SandboxLimits) -> SandboxRun:
    """What unshare's exit code says: unshare passes on the shell's (process 1), the shell the command's."""
    # The shell reports a command killed by signal N as 128 + N (an exit code above 128 reads the same);
    # unshare itself dies of the signal that killed the shell (only ever from outside).
    signum = -exit_code if exit_code < 0 else exit_code - 128 if 128 < exit_code <= 128 + signal.SIGRTMAX else 0
    if not signum:
        return SandboxRun(exit_code, output, None)
    if signum == signal.SIGXCPU:
        return SandboxRun(None, output, f"used more than {limits.cpu_seconds} s of CPU time and was stopped")
    return SandboxRun(None, output, f"was killed by signal {signum} ({signal.strsignal(signum) or 'unknown'})")


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    """chown root and everything under it, never following a symbolic link."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)
    os.chown(root, uid, gid)
