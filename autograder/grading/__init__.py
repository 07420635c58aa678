"""Grading one submission: restore its notebooks, run them in the sandbox, score them in the grader, record.

submission.py is the pipeline (run_submission); nbgrader_run.py runs nbgrader in the
sandbox; notebook_keys.py says what each notebook's outcome depends on, and reuse.py keeps
the outcomes a regrade reuses while that is unchanged; restore.py puts notebooks back in the
release's shape; flags.py reads the student's code for review flags; reasons.py reads what
the notebook's own run did and gives failed tests their true reason; scoring.py turns
verdicts into test results; gradebook_writer.py is the single writer of nbgrader's gradebook.
"""
