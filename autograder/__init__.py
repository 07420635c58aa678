"""The kit's grading tools: release, validate (and, as the course grows, grade, export, feedback, report).

Each verb is a module with plain functions; `python -m autograder VERB --help` is a thin
command line over them. Nothing here is installed for students.
"""
