"""Tests for autograder.sandbox.cgroup: one memory cap per sandbox where cgroup v2 is delegated, else RLIMIT_AS."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from autograder.sandbox import SandboxLimits, cgroup, run, runner
from autograder.sandbox.cgroup import MemoryCap, cgroup2_mount, delegated_parent, own_cgroup
from sandbox_fixtures import python

V2_MOUNTINFO = ("22 1 0:21 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
                "rw,nsdelegate,memory_recursiveprot\n")
V1_MOUNTINFO = ("30 25 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
                "31 25 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n")
V2_CGROUPS = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/grader.scope\n"
V1_CGROUPS = "5:memory:/docker/abc\n4:cpu:/docker/abc\n1:name=systemd:/docker/abc\n"
OWN = "user.slice/user-1000.slice/user@1000.service/app.slice/grader.scope"


def fake_hierarchy(root: Path, delegated: str = "user.slice/user-1000.slice/user@1000.service") -> Path:
    """A cgroup v2 tree in plain folders: only `delegated` enables memory for its children."""
    folder = root
    for part in [""] + OWN.split("/"):
        folder = folder / part if part else folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "cgroup.procs").write_text("")
        (folder / "cgroup.subtree_control").write_text("cpu pids" + (" memory" if folder == root / delegated else ""))
    return root


def test_the_mounts_and_the_callers_cgroup_are_read_from_proc():
    """Is a cgroup v2 mount found (and none on a v1-only host), and the caller's v2 cgroup read (none under v1)?"""
    assert cgroup2_mount(V2_MOUNTINFO) == (Path("/sys/fs/cgroup"), "/")
    assert cgroup2_mount(V1_MOUNTINFO) is None
    assert own_cgroup(V2_CGROUPS) == "/" + OWN and own_cgroup(V1_CGROUPS) is None


def test_a_v1_only_host_delegates_nothing_so_the_cap_falls_back(monkeypatch):
    """On a host with cgroup v1 only (like this kit's reference machine), is there no cgroup, hence no cap?"""
    assert delegated_parent(V1_MOUNTINFO, V1_CGROUPS) is None
    assert delegated_parent(V2_MOUNTINFO, V1_CGROUPS) is None   # hybrid: the caller is in no v2 cgroup
    monkeypatch.setattr(cgroup, "delegated_parent", lambda: None)
    assert MemoryCap.create(2 ** 30) is None


def test_the_nearest_cgroup_that_delegates_memory_is_chosen(tmp_path):
    """From the caller's cgroup up, is the first that enables memory for its children the parent of sandboxes?"""
    root = fake_hierarchy(tmp_path / "cgroup")
    mountinfo = V2_MOUNTINFO.replace("/sys/fs/cgroup", str(root))
    assert delegated_parent(mountinfo, V2_CGROUPS) == root / "user.slice/user-1000.slice/user@1000.service"
    bare = fake_hierarchy(tmp_path / "bare", delegated="none")
    assert delegated_parent(V2_MOUNTINFO.replace("/sys/fs/cgroup", str(bare)), V2_CGROUPS) is None


def test_a_cap_sets_memory_max_and_reads_the_oom_kills_and_cpu(tmp_path):
    """Does a cap write memory.max, move pids in, count OOM kills and CPU, and go away after?"""
    parent = tmp_path / "delegated"
    parent.mkdir()
    MemoryCap.create(3 * 2 ** 30, parent)
    cap = MemoryCap.create(3 * 2 ** 30, parent)   # a second sandbox: a cgroup of its own
    assert len(list(parent.iterdir())) == 2 and (cap.folder / "memory.max").read_text() == str(3 * 2 ** 30)
    cap.add(1234)
    assert (cap.folder / "cgroup.procs").read_text() == "1234"
    assert cap.oom_kills() == 0 and cap.cpu_seconds() == 0.0
    (cap.folder / "memory.events").write_text("low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\n")
    (cap.folder / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\n")
    assert cap.oom_kills() == 1 and cap.cpu_seconds() == 2.5
    for path in cap.folder.iterdir():   # the kernel's files vanish with the cgroup; plain ones must go first
        path.unlink()
    cap.remove()
    assert not cap.folder.exists()


class FakeCap:
    """A MemoryCap in a plain folder, recording which processes were moved in and what ran then."""

    def __init__(self, folder: Path, oom_kills: int = 0):
        self.folder, self.added, self._oom_kills, self.removed = folder, [], oom_kills, False

    def add(self, pid: int) -> None:
        children = [p for p in os.listdir("/proc") if p.isdigit() and _parent(p) == pid]
        self.added.append((pid, open(f"/proc/{pid}/cmdline").read().split("\0")[0], children))

    def oom_kills(self) -> int:
        return self._oom_kills

    def cpu_seconds(self) -> float:
        return 0.0

    def remove(self) -> None:
        self.removed = True


def _parent(pid: str) -> int | None:
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


LIMITS = "import json; print(json.dumps([line.split()[3] for line in open('/proc/self/limits') if 'address space' in line]))"


@pytest.mark.sandbox
def test_with_a_cgroup_the_whole_sandbox_joins_it_before_the_command_starts(tmp_path, monkeypatch):
    """With a cap, are bwrap and its process 1 moved in while the command waits, and RLIMIT_AS left off?"""
    cap = FakeCap(tmp_path / "cap")
    monkeypatch.setattr(runner.MemoryCap, "create", lambda limit: cap)
    ran = run(python(LIMITS), tmp_path, SandboxLimits(cpu_seconds=30, memory_bytes=2 ** 30))
    assert json.loads(ran.output) == ["unlimited"] and ran.kind is None
    (monitor, program, children), (init, init_program, init_children) = cap.added
    assert program.endswith("bwrap") and init_program.endswith("bwrap") and children == [str(init)]
    assert init_children == [] and cap.removed   # the command had not started yet


@pytest.mark.sandbox
def test_an_oom_kill_in_the_cgroup_is_reported_as_memory_even_if_the_command_carried_on(tmp_path, monkeypatch):
    """If the kernel killed a process of the sandbox for memory, is the run 'memory' though the command exited 0?"""
    monkeypatch.setattr(runner.MemoryCap, "create", lambda limit: FakeCap(tmp_path / "cap", oom_kills=1))
    ran = run(["true"], tmp_path, SandboxLimits(cpu_seconds=30, memory_bytes=2 ** 30))
    assert (ran.kind, ran.returncode, ran.stopped) == ("memory", 0, "ran out of memory (its cap is 1 GiB)")


@pytest.mark.parametrize("isolate", [pytest.param(True, marks=pytest.mark.sandbox, id="sandboxed"),
                                     pytest.param(False, id="plain")])
def test_without_a_cgroup_each_process_gets_the_cap_as_rlimit_as(tmp_path, monkeypatch, isolate):
    """The fallback: without a cgroup, is RLIMIT_AS of the command the memory cap?"""
    monkeypatch.setattr(runner.MemoryCap, "create", lambda limit: None)
    ran = run(python(LIMITS), tmp_path, SandboxLimits(cpu_seconds=30, memory_bytes=2 ** 30), isolate=isolate)
    assert json.loads(ran.output) == [str(2 ** 30)]
