"""Tests for autograder.sandbox: one untrusted command, shut in, limited, and cleaned up after."""
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.course import ROOT, SOURCE_DIR
from autograder.sandbox.namespaces import FIRST_UID, MAX_OUTPUT, SandboxLimits, run_sandboxed, sandbox_unavailable

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="sandboxes need root")

UID = 199_999  # for the tests that look for the sandbox's processes on the host
LIMITS = SandboxLimits(wall_seconds=60)
SECRET = "the-answer-is-42"


def sandboxed_python(code: str, scratch: Path, limits: SandboxLimits = LIMITS, **options):
    """Run `python -c code` in a sandbox whose scratch folder is `scratch` (made if missing)."""
    scratch.mkdir(parents=True, exist_ok=True)
    return run_sandboxed([sys.executable, "-c", textwrap.dedent(code)], scratch, limits, **options)


def processes_of(uid: int) -> list[str]:
    """The pids of the host's processes whose real uid is `uid`."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uids = next(line for line in status.read_text().splitlines() if line.startswith("Uid:")).split()
        except (OSError, StopIteration):  # the process ended meanwhile
            continue
        if uids[1] == str(uid):
            found.append(status.parent.name)
    return found


def test_sandboxes_can_be_made_here_but_not_without_root(monkeypatch):
    """Can sandboxes be made on this machine, and is a caller that is not root told that they need root?"""
    assert sandbox_unavailable() is None
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "need root" in sandbox_unavailable()


def test_a_sandboxed_command_cannot_reach_a_server_outside(tmp_path):
    """Can a sandboxed command reach a server outside, or any network but its own loopback?"""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        run = sandboxed_python(f"""
            import socket
            print("interfaces", [name for _, name in socket.if_nameindex()])
            for address in [("127.0.0.1", {port}), ("1.1.1.1", 53)]:
                try:
                    socket.create_connection(address, timeout=2).close()
                    print("reached", address)
                except OSError as error:
                    print("blocked", address, error.strerror)
            """, tmp_path / "scratch")
        server.setblocking(False)
        with pytest.raises(BlockingIOError):  # nobody knocked
            server.accept()
    assert run.returncode == 0, run.output
    assert "interfaces ['lo']" in run.output
    assert f"blocked ('127.0.0.1', {port}) Connection refused" in run.output
    assert "blocked ('1.1.1.1', 53) Network is unreachable" in run.output and "reached" not in run.output


def test_programs_in_one_sandbox_can_talk_over_loopback(tmp_path):
    """Can a server and a client in the same sandbox talk over 127.0.0.1, as nbclient and a kernel do?"""
    run = sandboxed_python("""
        import socket
        with socket.create_server(("127.0.0.1", 0)) as server:
            with socket.create_connection(server.getsockname(), timeout=5) as client:
                connection, _ = server.accept()
                client.sendall(b"ping")
                print("received", connection.recv(4).decode())
        """, tmp_path / "scratch")
    assert run.returncode == 0 and "received ping" in run.output, run.output


def test_the_command_runs_unprivileged_as_the_given_uid(tmp_path):
    """Does the command run as the given uid and gid, with no groups, no capabilities and no_new_privs?"""
    run = sandboxed_python("""
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        for key in ("Uid", "Gid", "Groups", "CapPrm", "CapEff", "NoNewPrivs"):
            print(key, status[key].split())
        """, tmp_path / "scratch", uid=UID)
    assert run.returncode == 0, run.output
    for key in ("Uid", "Gid"):
        assert f"{key} {[str(UID)] * 4}" in run.output
    assert "Groups []" in run.output and "NoNewPrivs ['1']" in run.output
    assert "CapPrm ['0000000000000000']" in run.output and "CapEff ['0000000000000000']" in run.output


def test_two_sandboxes_at_once_get_different_uids(tmp_path):
    """Do two sandboxes started at the same time by two threads run as two different high uids?"""
    runs = {}

    def sandbox(name):
        runs[name] = sandboxed_python("import os; print(os.getuid())", tmp_path / name)

    threads = [threading.Thread(target=sandbox, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    uids = {int(run.output) for run in runs.values()}
    assert len(uids) == 2 and min(uids) >= FIRST_UID


def test_hidden_paths_and_other_scratch_folders_cannot_be_read(tmp_path):
    """Can the command read a hidden folder or file (outside /tmp or in its scratch) or a neighbour's scratch?"""
    scratch, neighbour = tmp_path / "scratch", tmp_path / "neighbour"
    (scratch / "source").mkdir(parents=True)
    (scratch / "source" / "answer.py").write_text(SECRET)
    (scratch / "gradebook.db").write_text(SECRET)
    neighbour.mkdir()
    (neighbour / "work.py").write_text(SECRET)
    # outside /tmp, and in every clone: the kit's solutions and a file that stands for a gradebook
    solutions, gradebook, config = ROOT / SOURCE_DIR, ROOT / "README.md", ROOT / "nbgrader_config.py"
    assert os.listdir(solutions) and gradebook.stat().st_size > 0
    hidden = [solutions, gradebook, scratch / "source", scratch / "gradebook.db"]
    run = sandboxed_python(f"""
        import os
        print("listed", os.listdir({str(solutions)!r}), os.listdir("source"), sorted(os.listdir("/tmp")), os.listdir(".."))
        print("read", len(open({str(gradebook)!r}, "rb").read()), open("gradebook.db").read())
        print("config", len(open({str(config)!r}).read()))
        for path in ({str(neighbour / "work.py")!r}, "source/answer.py"):
            try:
                print(open(path).read())
            except OSError as error:
                print("unreadable", path, error.strerror)
        """, scratch, hidden=hidden, visible=[ROOT])  # the kit may itself live under /tmp
    assert run.returncode == 0, run.output
    assert SECRET not in run.output
    # under /tmp only the folders bound back: scratch's, and the kit's when it lives there too
    tmp = sorted({path.relative_to("/tmp").parts[0] for path in (tmp_path, ROOT) if path.is_relative_to("/tmp")})
    assert f"listed [] [] {tmp} ['scratch']" in run.output
    assert "read 0 \n" in run.output and f"config {len(config.read_text())}" in run.output
    assert run.output.count("unreadable") == 2
    assert (scratch / "source" / "answer.py").read_text() == SECRET  # covered in the sandbox only


def test_only_scratch_is_writable_and_its_files_come_back_to_the_caller(tmp_path):
    """Can the command write in scratch, and only there, and can the caller read and delete what it wrote?"""
    scratch = tmp_path / "scratch"
    run = sandboxed_python(f"""
        import os
        os.makedirs("made/deep")
        open("made/deep/out.txt", "w").write("written")
        os.chmod("made", 0o000)
        for folder in ({str(ROOT)!r}, "/", ".."):
            try:
                open(os.path.join(folder, "sandbox-probe.txt"), "w").close()
                print("wrote into", folder)
            except OSError as error:
                print("refused", error.strerror)
        """, scratch)
    try:
        assert run.returncode == 0, run.output
        assert "wrote into" not in run.output and run.output.count("refused Permission denied") == 3
    finally:
        for folder in (ROOT, Path("/")):
            (folder / "sandbox-probe.txt").unlink(missing_ok=True)
    assert (scratch / "made" / "deep" / "out.txt").read_text() == "written"
    assert {path.stat().st_uid for path in scratch.rglob("*")} | {scratch.stat().st_uid} == {os.geteuid()}
    subprocess.run(["rm", "-rf", str(scratch)], check=True)
    assert not scratch.exists()


def test_the_command_sees_only_its_sandbox_and_leaves_nothing_behind(tmp_path):
    """Does the command see only its sandbox's processes, and does a daemon it detaches die when it ends?"""
    marker = f"1000.{os.getpid()}{time.monotonic_ns() % 10 ** 6}"  # sleep reads it as seconds
    script = (f"setsid sleep {marker} >/dev/null 2>&1 & sleep 0.3; "
              f"pgrep -fx 'sleep {marker}'; ls /proc | grep -c '^[0-9]'")
    (tmp_path / "scratch").mkdir()
    run = run_sandboxed(["/bin/sh", "-c", script], tmp_path / "scratch", LIMITS, uid=UID)
    assert run.returncode == 0, run.output  # pgrep found the daemon running
    daemon, visible = run.output.split()
    # sh, timeout, the command, the daemon, ls, grep: the host has many more
    assert daemon.isdigit() and int(visible) < 10, run.output
    assert subprocess.run(["pgrep", "-fx", f"sleep {marker}"]).returncode == 1
    assert processes_of(UID) == []


def test_a_large_allocation_fails_under_the_memory_cap(tmp_path):
    """Does a 4 GB allocation under a 1 GiB cap fail with MemoryError, as the command's own failure?"""
    run = sandboxed_python("""
        small = bytearray(100 * 2 ** 20)
        print("100 MB allocated", flush=True)
        large = bytearray(4 * 2 ** 30)
        """, tmp_path / "scratch", SandboxLimits(wall_seconds=60, memory_bytes=2 ** 30))
    assert "100 MB allocated" in run.output and "MemoryError" in run.output
    assert run.returncode == 1 and run.stopped is None


def test_a_busy_loop_is_stopped_at_the_cpu_limit(tmp_path):
    """Is `while True: pass` stopped after 2 s of CPU time, and is that the reason given?"""
    start = time.monotonic()
    run = sandboxed_python("while True: pass", tmp_path / "scratch", SandboxLimits(wall_seconds=30, cpu_seconds=2))
    assert run.returncode is None and run.stopped == "used more than 2 s of CPU time and was stopped", run
    assert time.monotonic() - start < 10


def test_a_sleeper_is_stopped_at_the_wall_clock_limit(tmp_path):
    """Are a command and its children sleeping for 100 s all stopped at a 2 s wall clock, the output kept?"""
    start = time.monotonic()
    run = sandboxed_python("""
        import os, time
        children = [os.fork() for _ in range(5)]  # forks of forks: 2 ** 5 processes in all
        if all(children):
            print("started", flush=True)
        time.sleep(100)
        """, tmp_path / "scratch", SandboxLimits(wall_seconds=2), uid=UID)
    assert run.returncode is None and run.stopped == "ran past the 2 s wall-clock limit and was stopped"
    assert run.output == "started\n"
    assert time.monotonic() - start < 6
    assert processes_of(UID) == []


def test_setting_stop_ends_the_sandbox_at_once(tmp_path):
    """Does setting the stop event (the grader giving up on a worker) kill a sleeping sandbox within a second?"""
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    start = time.monotonic()
    run = sandboxed_python("import time\nprint('started', flush=True)\ntime.sleep(100)", tmp_path / "scratch",
                           uid=UID, stop=stop)
    assert run.returncode is None and run.stopped == "was stopped by the grader" and run.output == "started\n"
    assert time.monotonic() - start < 4
    assert processes_of(UID) == []


def test_a_fork_bomb_stops_at_the_process_cap_and_leaves_nothing_behind(tmp_path):
    """Does a fork loop get EAGAIN at a cap of 30 processes, never go past it, and leave no process behind?"""
    run = sandboxed_python("""
        import os, time
        children = 0
        try:
            while children < 1000:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
        except BlockingIOError:
            print("refused after", children, "children")
        """, tmp_path / "scratch", SandboxLimits(wall_seconds=30, max_processes=30), uid=UID)
    assert run.returncode == 0 and "refused after 29 children" in run.output, run.output  # the parent is the 30th
    assert processes_of(UID) == []


def test_the_command_gets_only_the_environment_it_is_given(tmp_path, monkeypatch):
    """Does the command see none of the grader's environment: only `env`, or a minimal one, and HOME in scratch?"""
    monkeypatch.setenv("GRADER_SECRET", SECRET)
    scratch, code = tmp_path / "scratch", "import json, os; print(json.dumps(dict(os.environ)))"
    minimal = json.loads(sandboxed_python(code, scratch).output)
    assert sorted(minimal) == ["HOME", "LANG", "PATH"] and minimal["HOME"] == str(scratch)
    given = json.loads(sandboxed_python(code, scratch, env={"ONLY": "this", "LANG": "C.UTF-8"}).output)
    assert given == {"ONLY": "this", "LANG": "C.UTF-8", "HOME": str(scratch)}


def test_a_flood_of_output_is_cut_to_its_tail(tmp_path):
    """Is a flood of output cut to its last MAX_OUTPUT bytes, saying so, with the end kept?"""
    run = sandboxed_python("import sys; sys.stdout.write('x' * 3 * 2 ** 20); print('the end')", tmp_path / "scratch")
    assert run.output.startswith("[... the first ") and run.output.endswith("xthe end\n")
    assert MAX_OUTPUT < len(run.output) < MAX_OUTPUT + 100


def test_a_missing_program_is_a_failed_run_and_a_broken_setup_an_error(tmp_path):
    """Is a command that cannot start a failed run, but a sandbox that cannot be set up an error?"""
    (tmp_path / "scratch").mkdir()
    run = run_sandboxed(["no-such-program"], tmp_path / "scratch", LIMITS)
    assert run.returncode == 127 and run.stopped is None and "no-such-program" in run.output
    (tmp_path / "file").write_text("")
    with pytest.raises(RuntimeError, match="could not be set up"):
        run_sandboxed(["true"], tmp_path / "file", LIMITS)  # scratch must be a folder


def test_a_notebook_executes_inside_the_sandbox(tmp_path):
    """Can nbconvert start a Jupyter kernel inside the sandbox and execute a notebook in place?"""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    cells = [nbformat.v4.new_code_cell("answer = 6 * 7"), nbformat.v4.new_code_cell("print(f'answer={answer}')")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), scratch / "nb.ipynb")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8"}
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace", "nb.ipynb"]
    run = run_sandboxed(command, scratch, SandboxLimits(wall_seconds=120), hidden=[ROOT / SOURCE_DIR], env=env)
    assert run.returncode == 0 and run.stopped is None, run.output
    outputs = nbformat.read(scratch / "nb.ipynb", as_version=4).cells[1].outputs
    assert [output.get("text") for output in outputs] == ["answer=42\n"]


def test_a_visible_folder_under_a_replaced_one_stays_readable(tmp_path):
    """Does a folder the command needs (the kit, the dataset) stay readable when it lives under /tmp?"""
    kit = tmp_path / "kit"
    (kit / "solutions").mkdir(parents=True)
    (kit / "data.txt").write_text("pixels")
    (kit / "solutions" / "answer.py").write_text(SECRET)
    run = sandboxed_python(f"""
        import os
        print(open({str(kit / "data.txt")!r}).read(), os.listdir({str(kit / "solutions")!r}))
        """, tmp_path / "scratch", hidden=[kit / "solutions"], visible=[kit])
    assert run.returncode == 0, run.output
    assert "pixels []" in run.output and SECRET not in run.output
