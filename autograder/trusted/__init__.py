"""Trusted scoring: the reference tests run in the grader, the student's code in a sandboxed worker.

tests.py runs the reference test cells here; session.py starts workers and holds the
proxies; wire.py is the data-only codec both sides share; worker.py is the one module
that runs inside the sandbox, and it imports only wire.py and nn_helpers.cells.
"""
