"""Tests for autograder.sandbox.meter: the CPU time of a whole process tree, from /proc."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from autograder.sandbox import meter
from autograder.sandbox.meter import Stat, TreeMeter, read_stat, tree


def test_a_stat_is_read_whatever_the_process_is_called():
    """Is a process whose name holds spaces and parentheses read right (its parent, its session)?"""
    child = subprocess.Popen([sys.executable, "-c", "open('/proc/self/comm', 'w').write('a) b (c')\n"
                                                    "import time; print(flush=True); time.sleep(30)"],
                             stdout=subprocess.PIPE, start_new_session=True)
    try:
        child.stdout.readline()   # the name is set
        stat = read_stat(child.pid)
        assert open(f"/proc/{child.pid}/comm").read() == "a) b (c\n"
        assert (stat.pid, stat.ppid, stat.session) == (child.pid, os.getpid(), child.pid)
        assert 0 <= stat.own < 5 and stat.children == 0 and stat.started > 0
    finally:
        child.kill()
        child.wait()
    assert read_stat(child.pid) is None   # gone


def stat(pid: int, ppid: int, own: float = 0.0, children: float = 0.0, session: int = 1) -> Stat:
    return Stat(pid, ppid, session, started=pid * 10, own=own, children=children)


def test_a_tree_holds_the_descendants_and_the_session_but_nothing_else():
    """Does the tree of 10 hold its children and grandchildren, and with session 50 that session's strays?"""
    stats = {s.pid: s for s in [stat(1, 0), stat(10, 1), stat(11, 10), stat(12, 11), stat(13, 10),
                                stat(20, 1), stat(21, 20), stat(30, 1, session=50), stat(31, 30, session=50)]}
    assert sorted(s.pid for s in tree(10, stats)) == [10, 11, 12, 13]
    assert sorted(s.pid for s in tree(10, stats, session=50)) == [10, 11, 12, 13, 30, 31]
    assert tree(99, stats) == []


@pytest.fixture
def snapshots(monkeypatch):
    """Feed the meter the process tables it reads, one list of Stats per reading."""
    tables: list[list[Stat]] = []
    monkeypatch.setattr(meter, "all_processes", lambda: {s.pid: s for s in tables.pop(0)})
    return tables


def test_a_process_reaped_by_its_parent_counts_once(snapshots):
    """When a child ends and its parent reaps it, does its time move into the parent's, counted once?"""
    snapshots += [[stat(10, 1, own=1.0), stat(11, 10, own=2.0)],
                  [stat(10, 1, own=1.0, children=2.5)]]          # 11 ended at 2.5 s; 10 reaped it
    reading = TreeMeter(10)
    assert reading.seconds() == 3.0
    assert reading.seconds() == 3.5


def test_a_child_nobody_reaps_still_counts_as_last_seen(snapshots):
    """Does a child reaped by the kernel (SIGCHLD ignored), whose time goes to nobody, count as last seen?"""
    snapshots += [[stat(10, 1, own=1.0), stat(11, 10, own=2.0)],
                  [stat(10, 1, own=1.2), stat(12, 10, own=0.5)],  # 11 gone, added to nobody; 12 new
                  [stat(10, 1, own=1.2)]]
    reading = TreeMeter(10)
    assert [reading.seconds(), reading.seconds(), reading.seconds()] == [3.0, 3.7, 3.7]


def test_a_reading_never_goes_down_and_a_recent_one_is_reused(snapshots):
    """Does the meter never report less than before, reuse a reading younger than max_age, and take in rusage?"""
    snapshots += [[stat(10, 1, own=4.0)], [stat(10, 1, own=3.0)], [Stat(10, 1, 1, started=999, own=1.0, children=0)]]
    reading = TreeMeter(10)
    assert reading.seconds() == 4.0
    assert reading.seconds(max_age=60) == 4.0 and len(snapshots) == 2   # not read again
    assert reading.seconds() == 4.0   # a lower figure for the same process is not believed
    assert reading.seconds() == 5.0   # the pid now names another process: both count
    assert reading.add(7.5) == 7.5 and reading.add(1.0) == 7.5


def test_a_live_tree_is_metered_while_it_runs():
    """Does the meter of a real process that burns 1 s of CPU read about 1 s, and list it among the tree's pids?"""
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile time.process_time() < 1.0:\n    pass\n"
                                                    "print(flush=True)\ntime.sleep(30)"],
                             stdout=subprocess.PIPE, start_new_session=True)
    try:
        child.stdout.readline()
        reading = TreeMeter(child.pid)
        assert 0.9 < reading.seconds() < 2.0 and reading.pids() == [child.pid]
        start = time.monotonic()
        reading.seconds()
        assert time.monotonic() - start < 0.5   # a scan of /proc is cheap enough to poll
    finally:
        child.kill()
        child.wait()
