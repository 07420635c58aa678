"""Tests for autograder.trusted.proxies: what the reference tests hold in place of the student's code.

The proxies live in the grader's process, so nothing the worker sends may make NumPy read
memory the grader did not fill: no array protocol on a proxy, no __special__ attribute from
the worker. A regression here would crash the grader, so the crash probe runs in a child.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.trusted.proxies import GraderCodec, RemoteHandle, RemoteInstance
from autograder.trusted.tests import Verdict
from autograder.trusted.wire import Exchange, WireError

ROOT = Path(__file__).resolve().parent.parent

# The reply of a hostile worker: an object of the student's class whose attributes describe
# 8 MB of memory at address 8, as the segfault attack sent them.
HOSTILE_NODES = {
    "-1": {"t": "object", "class": {"h": 1, "name": "Evil"}, "k": ["shape", "__array_interface__"],
           "v": [{"$": "tuple", "v": [1000000]}, {"$": "node", "id": -2}]},
    "-2": {"t": "dict", "k": ["shape", "typestr", "data", "version"],
           "v": [{"$": "tuple", "v": [1000000]}, "<f8", {"$": "tuple", "v": [8, False]}, 3]},
}


class NoSession:
    """A session that fails the test if a proxy sends anything."""

    def request(self, *args, **kwargs):
        raise AssertionError(f"the proxy sent a request: {args} {kwargs}")


def instance(codec: GraderCodec, nodes: dict):
    return codec.unpack({"values": {"v": {"$": "node", "id": -1}}, "nodes": nodes}, [], Exchange(+1))["v"]


def test_a_worker_object_describing_memory_is_refused():
    """Is a student's object whose attributes include __array_interface__ refused before it becomes a proxy?"""
    with pytest.raises(WireError, match="__array_interface__"):
        instance(GraderCodec(NoSession()), HOSTILE_NODES)


def test_np_asarray_on_the_hostile_reply_does_not_crash_the_grader():
    """Does the grader survive the segfault attack: decode the reply and call np.asarray on what it got?"""
    probe = ("import numpy as np\n"
             "from autograder.trusted.proxies import GraderCodec\n"
             "from autograder.trusted.wire import Exchange, WireError\n"
             f"nodes = {HOSTILE_NODES!r}\n"
             "try:\n"
             "    value = GraderCodec(None).unpack({'values': {'v': {'$': 'node', 'id': -1}}, 'nodes': nodes}, [],"
             " Exchange(+1))['v']\n"
             "    print(np.asarray(value).sum())\n"
             "except WireError as error:\n"
             "    print('refused:', error)\n")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"the grader's process died ({run.returncode}): {run.stderr[-500:]}"
    assert run.stdout.startswith("refused:")


@pytest.mark.parametrize("name", ["__array_interface__", "__array_struct__", "__array__", "__array_priority__",
                                  "__array_ufunc__", "__array_function__", "__len__", "__iter__", "__getitem__"])
def test_proxies_expose_no_array_protocol_and_send_nothing_for_it(name):
    """Do a student's object and a student's function answer no __special__ lookup (and send no request for one)?"""
    codec = GraderCodec(NoSession())
    obj = instance(codec, {"-1": {"t": "object", "class": {"h": 1, "name": "Model"}, "k": ["shape"],
                                  "v": [{"$": "tuple", "v": [3]}]}})
    assert isinstance(obj, RemoteInstance) and obj.shape == (3,)
    for proxy in (obj, RemoteHandle(NoSession(), 4)):
        assert not hasattr(proxy, name)
        array = np.asarray(proxy)
        assert array.dtype == object and array.shape == () and array[()] is proxy


def test_a_name_reaches_the_fresh_worker_after_the_last_one_was_stopped(trusted_grade):
    """After a test's call runs past its limit (the worker is stopped), does the next test's call of the same
    function reach that function in the fresh worker, rather than a handle the old worker gave out?"""
    answer = "import time\n\ndef scale(x, factor):\n    if factor == 2.0:\n        time.sleep(100)\n    return x * factor\n"
    tests = {"test_slow": 'scale(np.arange(3.0), 2.0)',
             "test_again": 'check_close("scale", scale(np.arange(3.0), 3.0), [0.0, 3.0, 6.0])'}
    verdicts = trusted_grade(answer, tests, seconds=3.0, reference_answer=answer)
    assert verdicts["test_slow"].kind == "TimeoutError"
    assert verdicts["test_again"] == Verdict(True)
