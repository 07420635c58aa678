"""nbgrader's course layout for this kit: solutions/ is the source, assignment/ the release."""
import os
import sys

from nn_helpers.cells import SAVED_MODEL_FILES

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignment"
c.CourseDirectory.course_id = "two_layer_net_kit"

# Solutions are replaced by a stub that fails loudly until the student writes code.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("Replace this line with your code")'
}
# The release must not ship files the solutions leave behind when run.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", *SAVED_MODEL_FILES]

# Longest cell: the final training of Part 7 (about 25 s on 2 cores; 35 s of CPU time with the
# grader's one BLAS thread). The whole assignment runs in about 1.5 minutes; a runaway cell is stopped here.
c.Execute.timeout = 240
c.Execute.interrupt_on_timeout = True

# nbgrader's own autograde (the formgrader's Autograde button, `nbgrader autograde`) would run submissions
# outside the sandbox and overwrite the kit's grades: in the kit's own course it refuses, naming the kit's
# command. Copies of this file (the scratch course `grade` runs each submission in, the demo's and the tests'
# courses) have no kit beside them and autograde as usual.
if os.path.isfile(os.path.join(c.CourseDirectory.root, "autograder", "nbgrader_guard.py")):
    sys.path.append(c.CourseDirectory.root)
    from autograder.nbgrader_guard import FEEDBACK_PREPROCESSORS, GUARD
    c.Autograde.exporter_class = GUARD
    c.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)  # nbgrader's feedback: no hidden tests
