"""Tests for autograder.sandbox's API (run, Sandbox): budgets of CPU time, wall clock and memory, output, ending.

Most run twice: sandboxed, and plainly (isolate=False, grading's --no-sandbox), which must
keep the same budgets.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.sandbox import MAX_OUTPUT, Sandbox, SandboxLimits, run
from sandbox_fixtures import BURN, competing_loops, python, require_sandbox

BOTH = pytest.mark.parametrize("isolate", [pytest.param(True, marks=pytest.mark.sandbox, id="sandboxed"),
                                           pytest.param(False, id="plain")])


@pytest.fixture
def scratch(tmp_path) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


@pytest.mark.slow
@BOTH
def test_a_cpu_budget_counts_cpu_time_not_wall_time_under_load(scratch, isolate):
    """With 6 busy loops competing for 2 cores, is a loop stopped at about 2 s of CPU, and does 2 s of work fit in 6?"""
    with competing_loops(6):
        start = time.monotonic()
        loop = run(python("while True: pass"), scratch, SandboxLimits(cpu_seconds=2), isolate=isolate)
        looped = time.monotonic() - start
        work = run(python(BURN.format(seconds=2) + "print('done')"), scratch, SandboxLimits(cpu_seconds=6),
                   isolate=isolate)
    assert (loop.kind, loop.returncode, loop.stopped) == ("cpu", None, "used more than 2 s of CPU time and was stopped")
    assert 2.0 < loop.cpu_seconds < 2.8 and looped > loop.cpu_seconds   # it had to share the cores
    assert (work.kind, work.returncode, work.output) == (None, 0, "done\n")
    assert 1.9 <= work.cpu_seconds < 3.0   # clock ticks against the clock the work read


@BOTH
def test_a_command_that_waits_is_stopped_by_the_wall_clock_backstop(scratch, isolate):
    """Is `sleep` stopped after 10 x its 0.3 s CPU budget on the clock, and said to be waiting, not computing?"""
    start = time.monotonic()
    ran = run(["sleep", "100"], scratch, SandboxLimits(cpu_seconds=0.3), isolate=isolate)
    assert ran.kind == "wall" and ran.returncode is None and ran.cpu_seconds < 0.3
    assert ran.stopped == ("was stopped after 3 s of wall-clock time without using its CPU budget: it was waiting "
                           "(sleep, input, a lock)")
    assert 3 <= time.monotonic() - start < 6


CHILDREN = """
import os, signal, time
def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
def child(seconds):
    if os.fork() == 0:
        burn(seconds)
        os._exit(0)
child(0.6); child(0.6)                 # waited for: counted in this process's children's time
os.wait(); os.wait()
read, write = os.pipe()
if os.fork() == 0:                     # orphans: their parent ends at once
    for _ in range(2):
        if os.fork() == 0:
            os.close(read)
            burn(1.0)
            os._exit(0)
    os._exit(0)
os.close(write)
os.wait()
os.read(read, 1)                       # EOF once both orphans have ended
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
child(1.0); child(1.0)                 # reaped by the kernel, added to nobody's time
def children_left():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1] == str(os.getpid()):
                return True
        except OSError:                # it ended meanwhile
            pass
    return False
while children_left():
    time.sleep(0.1)
open("done", "w").close()
time.sleep(2)
"""
BURNED = 2 * 0.6 + 4 * 1.0


@BOTH
def test_children_that_burn_cpu_and_end_are_counted(scratch, isolate):
    """Are children waited for, orphans, and children nobody reaps all counted, live and in the end?"""
    sandbox = Sandbox(python(CHILDREN), scratch, SandboxLimits(cpu_seconds=60), isolate=isolate).start()
    while not (scratch / "done").exists() and sandbox.running():
        time.sleep(0.05)
    live = sandbox.cpu_seconds()
    ran = sandbox.wait()
    assert ran.returncode == 0, ran.output
    # a child nobody reaps is counted as last seen, at most a poll (0.2 s of its CPU) before its end
    assert 0.8 * BURNED < live <= ran.cpu_seconds < BURNED + 1.0


@BOTH
def test_running_out_of_memory_is_reported_as_memory(scratch, isolate):
    """Does allocating 8 GiB under a 1 GiB cap end as 'memory', after what fitted ran?"""
    ran = run(python("""
        small = bytearray(100 * 2 ** 20)
        print("100 MB allocated", flush=True)
        large = bytearray(8 * 2 ** 30)
        """), scratch, SandboxLimits(cpu_seconds=30, memory_bytes=2 ** 30), isolate=isolate)
    assert ran.kind == "memory" and ran.stopped == "ran out of memory (its cap is 1 GiB)", ran
    assert ran.output.startswith("100 MB allocated\n") and ran.returncode in (1, None)


@BOTH
def test_stop_ends_the_command_at_once_and_says_so(scratch, isolate):
    """Does stop() (the grader giving up) kill a sleeping command and its children at once, saying so?"""
    sleep = f"sleep 1000.{time.monotonic_ns() % 10 ** 9}"   # a command line no other process has
    with Sandbox(["/bin/sh", "-c", f"{sleep} & {sleep} & echo started; wait"], scratch,
                 SandboxLimits(cpu_seconds=30), isolate=isolate) as sandbox:
        time.sleep(0.5)
        assert len(_left_behind(sleep)) == 2
        start = time.monotonic()
        sandbox.stop()
        ran = sandbox.wait()
    assert (ran.kind, ran.returncode, ran.stopped, ran.output) == ("stopped", None, "was stopped by the grader",
                                                                   "started\n")
    assert time.monotonic() - start < 5   # not the 1000 s, nor the 300 s backstop
    assert _left_behind(sleep) == []


def _left_behind(command: str) -> list[str]:
    return subprocess.run(["pgrep", "-fx", command], capture_output=True, text=True).stdout.split()


@BOTH
def test_run_stops_when_its_stop_event_is_set(scratch, isolate):
    """Does setting `stop` from another thread end a run that would otherwise sleep for 100 s?"""
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    ran = run(["sleep", "100"], scratch, SandboxLimits(cpu_seconds=30), isolate=isolate, stop=stop)
    assert ran.kind == "stopped"


@BOTH
def test_the_command_gets_only_its_environment_in_its_scratch_folder(scratch, isolate, monkeypatch):
    """Does the command see none of the grader's environment, only `env` (or PATH and LANG), HOME and cwd = scratch?"""
    monkeypatch.setenv("GRADER_SECRET", "the-answer-is-42")
    code = python("import json, os; print(json.dumps([dict(os.environ), os.getcwd()]))")
    default, cwd = json.loads(run(code, scratch, isolate=isolate).output)
    assert default == {"HOME": str(scratch), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    given, _ = json.loads(run(code, scratch, isolate=isolate, env={"ONLY": "this", "LANG": "C.UTF-8"}).output)
    assert given == {"ONLY": "this", "LANG": "C.UTF-8", "HOME": str(scratch)} and cwd == str(scratch)


@BOTH
def test_a_flood_of_output_never_blocks_and_is_cut_to_its_tail(scratch, isolate):
    """Is 3 MiB of output drained as it comes, then cut to its last MAX_OUTPUT bytes, saying so, the end kept?"""
    ran = run(python("import sys; sys.stdout.write('x' * 3 * 2 ** 20); print('the end')"), scratch,
              SandboxLimits(cpu_seconds=30), isolate=isolate)
    assert ran.returncode == 0 and ran.output.startswith("[... the first ") and ran.output.endswith("xthe end\n")
    assert MAX_OUTPUT < len(ran.output) < MAX_OUTPUT + 100


@BOTH
def test_a_missing_program_is_a_failed_run_and_a_broken_setup_an_error(tmp_path, scratch, isolate):
    """Is a command that cannot start a failed run (127), but a sandbox that cannot be set up a RuntimeError?"""
    ran = run(["no-such-program"], scratch, isolate=isolate)
    assert ran.returncode == 127 and ran.kind is None and "no-such-program" in ran.output
    (tmp_path / "file").write_text("")
    with pytest.raises(RuntimeError, match="could not be set up"):
        run(["true"], tmp_path / "file", isolate=isolate)   # scratch must be a folder


@BOTH
def test_a_command_killed_by_a_signal_says_which(scratch, isolate):
    """Is a command that kills itself reported as killed by that signal, not as an exit code?"""
    ran = run(python("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"), scratch, isolate=isolate)
    assert (ran.kind, ran.returncode, ran.stopped) == ("signal", None, "was killed by signal 9 (Killed)")


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_notebook_executes_inside_the_sandbox(scratch):
    """Can nbconvert start a Jupyter kernel inside the sandbox and execute a notebook in place, with clean outputs?"""
    cells = [nbformat.v4.new_code_cell("answer = 6 * 7"),
             nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nprint(f'answer={answer}')")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), scratch / "nb.ipynb")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace", "nb.ipynb"]
    ran = run(command, scratch, SandboxLimits(cpu_seconds=120), env=env)
    assert ran.returncode == 0 and ran.kind is None, ran.output
    outputs = nbformat.read(scratch / "nb.ipynb", as_version=4).cells[1].outputs
    assert [output.get("text") for output in outputs] == ["answer=42\n"]   # nothing on stderr (fontconfig, ...)


def test_tests_needing_sandboxes_skip_without_them_but_fail_under_ci():
    """Where sandboxes cannot be made, is a sandbox test skipped with the reason, but failed when CI=true?"""
    require_sandbox(None, ci=True)
    with pytest.raises(pytest.skip.Exception, match="sandboxes cannot be made here: bubblewrap is not installed"):
        require_sandbox("bubblewrap is not installed", ci=False)
    with pytest.raises(pytest.fail.Exception, match="bubblewrap is not installed .*CI=true"):
        require_sandbox("bubblewrap is not installed", ci=True)
