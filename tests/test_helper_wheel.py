"""Tests for autograder.helper_wheel: the wheel that installs the helper package outside the kit."""
import zipfile

import pytest


@pytest.mark.slow
def test_the_wheel_holds_the_helper_package_only(helper_wheel):
    """Does the wheel hold nn_helpers and its metadata, and nothing of the grader or the solutions?"""
    names = zipfile.ZipFile(helper_wheel).namelist()
    assert helper_wheel.name.startswith("nn_helpers-") and helper_wheel.name.endswith("-py3-none-any.whl")
    assert {name.split("/")[0] for name in names} == {"nn_helpers", helper_wheel.name.split("-py3")[0] + ".dist-info"}
    assert "nn_helpers/cifar10_fetch.py" in names and "nn_helpers/data.py" in names
    assert not any("__pycache__" in name for name in names)
