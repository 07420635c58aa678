"""Trusted scoring: the reference tests run in the grader, the student's code in a sandboxed worker.

tests.py runs the reference test cells here; session.py starts workers, proxies.py holds
what the tests hold in place of the student's code; wire.py is the data-only codec both
sides share; worker.py is the one module that runs inside the sandbox, and it imports
only wire.py and nn_helpers.cells. Saved models are never opened here: saved.py gives the
tests stand-ins, models.py judges a file from its headers, evaluate.py reads and scores
it in a bounded process of its own.
"""
