"""Tests for autograder.sandbox.bwrap: what a sandboxed command can see, write, reach and be."""
from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from autograder.course import ROOT
from autograder.sandbox import SandboxLimits, run
from autograder.sandbox import bwrap
from autograder.sandbox.runner import FIRST_UID
from sandbox_fixtures import SECRET, planted, python

LIMITS = SandboxLimits(cpu_seconds=30)


def sandboxed(code: str, scratch: Path, limits: SandboxLimits = LIMITS, **options):
    """Run Python `code` in a sandbox whose scratch folder is `scratch` (made if missing)."""
    scratch.mkdir(parents=True, exist_ok=True)
    return run(python(code), scratch, limits, **options)


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


READ_EACH = """
import json, os, sys
seen = {}
for path in sys.argv[1:]:
    try:
        seen[path] = open(path).read()
    except OSError as error:
        seen[path] = error.strerror
print(json.dumps(seen))
"""


@pytest.mark.sandbox
def test_files_outside_the_allow_list_cannot_be_read(tmp_path):
    """Can a sandboxed command read files planted in /srv, /var/tmp, /home or /tmp, the kit's solutions or .git?"""
    solution = next((ROOT / "solutions").rglob("*.ipynb"))
    with planted("/srv", "other-course", "solutions", "answer.py") as srv, \
            planted("/var/tmp", "answer.py") as var_tmp, planted("/home", "someone", "kit", "answer.py") as home, \
            planted("/tmp", "answer.py") as host_tmp:
        paths = [srv, var_tmp, home, host_tmp, solution, ROOT / ".git", ROOT / "autograder" / "__init__.py"]
        assert all(os.access(path, os.R_OK) for path in paths)   # readable outside
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        ran = run([sys.executable, "-c", READ_EACH, *map(str, paths)], scratch, LIMITS)
    assert ran.returncode == 0, ran.output
    seen = json.loads(ran.output)
    assert [seen[str(path)] for path in paths[:-1]] == ["No such file or directory"] * 6
    assert seen[str(paths[-1])] == (ROOT / "autograder" / "__init__.py").read_text()   # the kit's code is there


@pytest.mark.sandbox
def test_the_root_holds_only_the_system_python_the_kit_and_scratch(tmp_path):
    """Is the sandbox's / made only of the system folders, /etc, /proc, /dev, /tmp and what holds Python, the kit and scratch?"""
    scratch = tmp_path / "scratch"
    ran = sandboxed("import os; print(sorted(os.listdir('/')))", scratch)
    system = {Path(path).name for path in bwrap.SYSTEM if os.path.lexists(path)}
    holders = {Path(p).absolute().parts[1] for p in (sys.base_prefix, sys.prefix, Path(sys.prefix).resolve(), ROOT,
                                                      scratch.resolve())}
    assert ran.output.strip() == str(sorted(system | {"dev", "etc", "proc", "tmp"} | holders))


@pytest.mark.sandbox
def test_a_visible_folder_is_read_only_at_its_name_and_its_real_path(tmp_path):
    """Is a visible folder named through a symbolic link (the kit's dataset link) readable there and at its real path?"""
    with planted("/var/tmp", "data", "batch") as batch:
        link = tmp_path / "datasets" / "cifar"
        link.parent.mkdir()
        link.symlink_to(batch.parent)
        ran = sandboxed(f"""
            import json, os
            found = [open({str(link / "batch")!r}).read(), open({str(batch)!r}).read()]
            try:
                open({str(link / "new")!r}, "w")
            except OSError as error:
                found.append(error.strerror)
            print(json.dumps(found))
            """, tmp_path / "scratch", visible=[link])
    assert json.loads(ran.output) == [SECRET, SECRET, "Read-only file system"]


@pytest.mark.sandbox
def test_the_kits_private_parts_stay_hidden_inside_a_visible_folder(tmp_path):
    """When a caller makes the whole kit visible, are its solutions/ and .git still hidden, the rest readable?"""
    ran = sandboxed(f"""
        import json, os
        git = {str(ROOT / ".git")!r}   # a folder in a clone, a file in a worktree
        try:
            git = os.listdir(git) if os.path.isdir(git) else open(git).read()
        except OSError as error:
            git = error.strerror
        print(json.dumps([os.listdir({str(ROOT / "solutions")!r}), git, open({str(ROOT / "README.md")!r}).read()]))
        """, tmp_path / "scratch", visible=[ROOT])
    solutions, git, readme = json.loads(ran.output)
    assert solutions == [] and git in ([], "", "Permission denied")   # an empty tmpfs, or /dev/null on a nodev mount
    assert readme == (ROOT / "README.md").read_text()


@pytest.mark.sandbox
def test_only_scratch_and_a_private_tmp_are_writable(tmp_path):
    """Can the command write in scratch and its own /tmp, and nowhere else; do its files come back to the caller?"""
    scratch = tmp_path / "scratch"
    marker = f"kit-sandbox-probe-{secrets.token_hex(4)}"
    ran = sandboxed(f"""
        import os
        os.makedirs("made/deep")
        open("made/deep/out.txt", "w").write("written")
        open("/tmp/{marker}", "w").write("private")
        for folder in ({str(ROOT / "autograder")!r}, "/", "/usr", {str(Path(sys.prefix).resolve())!r}):
            try:
                open(os.path.join(folder, "{marker}"), "w").close()
                print("wrote into", folder)
            except OSError as error:
                print("refused:", error.strerror)
        """, scratch)
    assert ran.returncode == 0, ran.output
    assert "wrote into" not in ran.output and ran.output.count("refused:") == 4, ran.output
    assert not Path("/tmp", marker).exists()
    assert (scratch / "made" / "deep" / "out.txt").read_text() == "written"
    assert {path.stat().st_uid for path in scratch.rglob("*")} | {scratch.stat().st_uid} == {os.geteuid()}


@pytest.mark.sandbox
def test_the_network_is_loopback_only(tmp_path):
    """Does the command see only `lo`, reach no server outside (the host's loopback included), and no network?"""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        ran = sandboxed(f"""
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
    assert "interfaces ['lo']" in ran.output
    assert f"blocked ('127.0.0.1', {port}) Connection refused" in ran.output
    assert "blocked ('1.1.1.1', 53) Network is unreachable" in ran.output and "reached" not in ran.output


@pytest.mark.sandbox
def test_programs_in_one_sandbox_talk_over_loopback(tmp_path):
    """Can a server and a client in the same sandbox talk over 127.0.0.1, as nbclient and a kernel do?"""
    ran = sandboxed("""
        import socket
        with socket.create_server(("127.0.0.1", 0)) as server:
            with socket.create_connection(server.getsockname(), timeout=5) as client:
                connection, _ = server.accept()
                client.sendall(b"ping")
                print("received", connection.recv(4).decode())
        """, tmp_path / "scratch")
    assert ran.returncode == 0 and "received ping" in ran.output, ran.output


STATUS = """
import os
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print({key: status[key].split() for key in ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd",
                                             "CapAmb", "NoNewPrivs")}, sorted(os.listdir("/proc/self/fd")))
"""


@pytest.mark.sandbox
def test_the_command_is_unprivileged_and_holds_only_its_standard_descriptors(tmp_path):
    """Does the command run as a uid that is not root, no groups, no capabilities, no_new_privs, with fds 0-2 only?"""
    ran = sandboxed(STATUS, tmp_path / "scratch")
    status, fds = ran.output.rsplit("} ", 1)
    status = eval(status + "}")
    assert status["Uid"][0] != "0" and len(set(status["Uid"])) == 1 and status["Groups"] in ([], status["Gid"][:1])
    assert all(status[key] == ["0000000000000000"] for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))
    assert status["NoNewPrivs"] == ["1"]
    assert eval(fds) == ["0", "1", "2", "3"]   # 3: the folder listdir reads


@pytest.mark.sandbox
@pytest.mark.skipif(os.geteuid() != 0, reason="as an ordinary user, every sandbox runs as that user")
def test_two_sandboxes_at_once_run_as_two_uids_of_their_own(tmp_path):
    """Run by root, do two sandboxes started at once by two threads run as two different high uids?"""
    runs = {}

    def sandbox(name):
        runs[name] = sandboxed("import os; print(os.getuid())", tmp_path / name)

    threads = [threading.Thread(target=sandbox, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    uids = {int(ran.output) for ran in runs.values()}
    assert len(uids) == 2 and min(uids) >= FIRST_UID


@pytest.mark.sandbox
def test_the_command_sees_only_its_processes_and_leaves_nothing_behind(tmp_path):
    """Does the command see only its sandbox's processes, and does a daemon it detaches die when it ends?"""
    marker = f"1000.{os.getpid()}{time.monotonic_ns() % 10 ** 6}"  # sleep reads it as seconds
    script = (f"setsid sleep {marker} >/dev/null 2>&1 & sleep 0.3; "
              f"pgrep -fx 'sleep {marker}'; ls /proc | grep -c '^[0-9]'")
    (tmp_path / "scratch").mkdir()
    ran = run(["/bin/sh", "-c", script], tmp_path / "scratch", LIMITS)
    assert ran.returncode == 0, ran.output  # pgrep found the daemon running
    daemon, visible = ran.output.split()
    # bwrap's process 1, sh, the daemon, ls, grep: the host has many more
    assert daemon.isdigit() and int(visible) < 10, ran.output
    assert subprocess.run(["pgrep", "-fx", f"sleep {marker}"]).returncode == 1


@pytest.mark.sandbox
def test_a_fork_bomb_stops_at_the_process_cap_and_leaves_nothing_behind(tmp_path):
    """Does a fork loop get EAGAIN at a cap of 30 processes, and leave no process behind?"""
    ran = sandboxed("""
        import os, time
        children = 0
        try:
            while children < 1000:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
        except BlockingIOError:
            print("refused after", children, "children", os.getuid())
        """, tmp_path / "scratch", SandboxLimits(cpu_seconds=30, max_processes=30))
    assert ran.returncode == 0 and "refused after" in ran.output, ran.output
    children, uid = int(ran.output.split()[2]), int(ran.output.split()[-1])
    assert 20 <= children < 30   # the parent (and, as an ordinary user, bwrap's process 1) count too
    if os.geteuid() == 0:
        assert processes_of(uid) == []


PROBE = """
import json, os, socket
found = {"uid": os.getuid(), "interfaces": [name for _, name in socket.if_nameindex()]}
for name, path in (("secret", SECRET_PATH), ("solutions", SOLUTIONS)):
    try:
        found[name] = open(path).read() if os.path.isfile(path) else os.listdir(path)
    except OSError as error:
        found[name] = error.strerror
open("written.txt", "w").write("by the sandbox")
print(json.dumps(found))
"""
AS_USER = """
import json, sys
from autograder.sandbox import SandboxLimits, run, sandbox_unavailable
outside = open(SECRET_PATH).read()
probe = run([sys.executable, "-c", PROBE], SCRATCH, SandboxLimits(cpu_seconds=30))
loop = run([sys.executable, "-c", "while True: pass"], SCRATCH, SandboxLimits(cpu_seconds=1))
print(json.dumps({"unavailable": sandbox_unavailable(), "outside": outside, "probe": probe.output,
                  "returncode": probe.returncode, "loop": [loop.kind, loop.cpu_seconds]}))
"""


def as_user(user: str, python_path: str, code: str) -> subprocess.CompletedProcess:
    line = f"cd / && PYTHONPATH={shlex.quote(str(ROOT))} {shlex.quote(python_path)} -c {shlex.quote(code)}"
    return subprocess.run(["su", user, "-s", "/bin/bash", "-c", line], capture_output=True, text=True, timeout=300)


@pytest.mark.sandbox
@pytest.mark.skipif(os.geteuid() != 0, reason="creating a user needs root (run as an ordinary user, every "
                                               "sandbox test already runs unprivileged)")
def test_an_ordinary_user_gets_the_same_sandbox(tmp_path):
    """Run by an ordinary user (made for the test), is a command confined the same way and stopped at its CPU budget?"""
    user, scratch = f"kit-grader-test-{secrets.token_hex(3)}", Path("/nonexistent")
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", user], check=True)
    try:
        # The user needs a Python that reaches the kit: this one may live where only root can go (pyenv under /root).
        usable = [path for path in (sys.executable, "/usr/local/bin/python3", "/usr/bin/python3")
                  if os.path.exists(path) and as_user(user, path, "import autograder.sandbox").returncode == 0]
        if not usable:
            pytest.skip(f"{user} can run no Python that imports the kit at {ROOT}")
        scratch = Path(tempfile.mkdtemp(prefix="kit-user-scratch-"))   # where the user can reach it
        shutil.chown(scratch, user, user)
        with planted("/srv", "other-course", "answer.py") as secret:
            probe = PROBE.replace("SECRET_PATH", repr(str(secret))).replace("SOLUTIONS", repr(str(ROOT / "solutions")))
            code = AS_USER.replace("SECRET_PATH", repr(str(secret))).replace("SCRATCH", repr(str(scratch)))
            done = as_user(user, usable[0], code.replace("PROBE", repr(probe)))
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        found = json.loads(report["probe"])
        uid = int(subprocess.run(["id", "-u", user], capture_output=True, text=True).stdout)
        assert report["unavailable"] is None and report["outside"] == SECRET and report["returncode"] == 0
        assert found == {"uid": uid, "interfaces": ["lo"], "secret": "No such file or directory",
                         "solutions": "No such file or directory"}
        assert (scratch / "written.txt").read_text() == "by the sandbox" and (scratch / "written.txt").stat().st_uid == uid
        kind, cpu = report["loop"]
        assert kind == "cpu" and 1.0 < cpu < 2.0
    finally:
        subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
        subprocess.run(["userdel", "-r", user], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


def test_a_folder_named_through_a_link_is_bound_at_both_paths(tmp_path):
    """Is a visible folder reached through a symbolic link bound at its real path and at the link's?"""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    binds = bwrap._binds(tmp_path / "scratch", [tmp_path / "link"])
    real = (tmp_path / "real").resolve()
    assert (real, real, False) in binds and (real, tmp_path / "link", False) in binds
    assert [len(target.parts) for _, target, _ in binds] == sorted(len(target.parts) for _, target, _ in binds)


def test_the_folders_python_imports_from_are_bound_with_where_their_links_lead(tmp_path, monkeypatch):
    """Is a sys.path folder outside the prefixes bound, with the folder its links lead to (a view of links), and
    never the kit's folder, the current folder or the home folder, whose files are not the submission's to read?"""
    (tmp_path / "packages" / "numpylike").mkdir(parents=True)
    (tmp_path / "view").mkdir()
    (tmp_path / "view" / "numpylike").symlink_to(tmp_path / "packages" / "numpylike")
    (tmp_path / "course").mkdir()
    monkeypatch.chdir(tmp_path / "course")
    found = bwrap.import_folders([str(tmp_path / "view"), str(ROOT), str(tmp_path / "course"), str(Path.home()),
                                  "", str(tmp_path / "missing")])
    assert found == [(tmp_path / "view").resolve(), (tmp_path / "packages").resolve()]
    monkeypatch.setattr(sys, "path", [str(tmp_path / "view")])
    targets = {target for _, target, _ in bwrap._binds(tmp_path / "scratch", [])}
    assert {(tmp_path / "view").resolve(), (tmp_path / "packages").resolve()} <= targets


def test_the_kits_solutions_are_covered_only_where_a_bound_folder_holds_them(tmp_path):
    """Are solutions/ and .git covered when the kit's folder is bound, and not otherwise?"""
    assert bwrap._covers(bwrap._binds(tmp_path, [])) == []
    covers = bwrap._covers(bwrap._binds(tmp_path, [ROOT]))
    assert ["--tmpfs", str(ROOT / "solutions"), "--remount-ro", str(ROOT / "solutions")] == covers[:4]
    assert str(ROOT / ".git") in covers


def test_missing_pieces_are_named_with_their_fix(monkeypatch, tmp_path):
    """Does `missing` say that bubblewrap is missing or too old, or that user namespaces are off, and how to fix it?"""
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, path=None: None if name == "bwrap" else which(name, path=path))
    assert bwrap.missing() == ("bubblewrap is not installed: `apt-get install bubblewrap` "
                               "(or your distribution's bubblewrap package)")
    old = tmp_path / "bwrap"
    old.write_text("#!/bin/sh\necho bubblewrap 0.6.1\n")
    old.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name, path=None: str(old) if name == "bwrap" else which(name, path=path))
    assert bwrap.missing().startswith("bubblewrap 0.6.1 is too old: the sandbox needs 0.8 or newer")
    monkeypatch.setattr(shutil, "which", which)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel" / "unprivileged_userns_clone").write_text("1\n")
    assert bwrap.missing(tmp_path) is None
    (tmp_path / "kernel" / "apparmor_restrict_unprivileged_userns").write_text("1\n")
    assert "`sysctl kernel.apparmor_restrict_unprivileged_userns=0`" in bwrap.missing(tmp_path)
    (tmp_path / "kernel" / "unprivileged_userns_clone").write_text("0\n")
    assert bwrap.missing(tmp_path) == ("unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone "
                                       "= 0): `sysctl kernel.unprivileged_userns_clone=1` as root (or run the grader "
                                       "as root)")
