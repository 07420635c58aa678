"""Helpers for the two-layer-net assignment: gradient checks, test checks, CIFAR-10, plots.

Students import this package from the notebooks; they never edit it. It holds no
reference implementation of anything the students write.
"""
