# The front door. Every target is a one-liner over the project's scripts and CLI.
VENV   := .venv
PYTHON := $(CURDIR)/$(VENV)/bin/python
# nbgrader starts its helpers (alembic, the kernel) by name: the venv must be on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# setup.sh writes this once the kit is set up; every target that needs the kit depends on it,
# so `make demo` or `make test` alone set up a fresh clone (and again after the pins change).
SETUP_DONE := $(VENV)/.setup-done

.PHONY: setup test test-fast adequacy adequacy-downstream demo release check-release validate grade export feedback report gradescope lab formgrader benchmark benchmark-sandbox benchmark-incremental benchmark-trusted clean

setup:          ## create .venv, install the pinned packages, fetch and verify CIFAR-10
	bash setup.sh

$(SETUP_DONE): setup.sh requirements.txt pyproject.toml
	bash setup.sh

# The tests run in JOBS processes (pytest-xdist), each test file in one of them: many tests wait on
# sandboxes, kernels and wall-clock backstops, which the other process uses meanwhile. JOBS=0: one process.
JOBS   ?= 2
PYTEST := $(PYTHON) -m pytest -n $(JOBS) --dist loadfile

test: $(SETUP_DONE)           ## the test suite: unit tests, release drift, attacks, the mutants on the notebooks without training
	$(PYTEST) -m "not adequacy_training and not adequacy_downstream"

test-fast: $(SETUP_DONE)      ## the test suite without the slow tests and the mutants (the edit-test loop)
	$(PYTEST) -m "not adequacy and not adequacy_training and not adequacy_downstream and not slow"

adequacy: $(SETUP_DONE)       ## the reference, release and mutants of the notebooks that train on CIFAR-10 (make test does the others)
	$(PYTHON) -m pytest -m adequacy_training

adequacy-downstream: $(SETUP_DONE)  ## what the other mutants do to the training thresholds (about 40 minutes; before a release)
	$(PYTHON) -m pytest -m adequacy_downstream

demo: $(SETUP_DONE)           ## the whole instructor workflow on a simulated class, in a new temporary course folder
	$(PYTHON) -m autograder demo

release: $(SETUP_DONE)        ## regenerate assignment/ from solutions/ (commit the result)
	$(PYTHON) -m autograder release

check-release: $(SETUP_DONE)  ## fail if assignment/ differs from a fresh generation
	$(PYTHON) -m autograder release --check

validate: $(SETUP_DONE)       ## solutions get full marks, the untouched release gets none
	$(PYTHON) -m autograder validate

grade: $(SETUP_DONE)          ## grade submitted/<student>/two_layer_net/ of this course in parallel (see --help for limits)
	$(PYTHON) -m autograder grade

export: $(SETUP_DONE)         ## grades.csv (nbgrader), results.json and Gradescope results in exports/ (after grading)
	$(PYTHON) -m autograder export

feedback: $(SETUP_DONE)       ## one HTML feedback page per student in feedback_html/ (never shows test code)
	$(PYTHON) -m autograder feedback

report: $(SETUP_DONE)         ## per-student and per-test tables in the terminal, charts in reports/
	$(PYTHON) -m autograder report

gradescope: $(SETUP_DONE)     ## autograder.zip: this course's autograder for Gradescope (see --help for limits and the sandbox)
	$(PYTHON) -m autograder gradescope

lab: $(SETUP_DONE)             ## a student's JupyterLab on assignment/two_layer_net (only the nbgrader panels that work here)
	$(PYTHON) -m autograder lab

formgrader: $(SETUP_DONE)      ## the instructor's JupyterLab at this course's root: nbgrader's formgrader (COURSE=DIR for another)
	$(PYTHON) -m autograder lab --course $(or $(COURSE),.)

benchmark: $(SETUP_DONE)      ## serial nbgrader autograde against `grade` on 20 submissions (takes most of an hour)
	$(PYTHON) benchmarks/grading_speed.py

benchmark-sandbox: $(SETUP_DONE) ## grade the demo class with the sandbox off, then on (about 8 minutes)
	$(PYTHON) benchmarks/sandbox_overhead.py

benchmark-incremental: $(SETUP_DONE) ## grade the reference, edit one answer cell of notebook 7, regrade (about 9 minutes)
	$(PYTHON) benchmarks/incremental_regrade.py

benchmark-trusted: $(SETUP_DONE) ## one call of a student's function in trusted scoring, against the same call in one process (a minute)
	$(PYTHON) benchmarks/trusted_calls.py --rounds 3

clean:          ## remove caches and nbgrader's scratch files (keeps .venv and the dataset)
	rm -rf .pytest_cache .hypothesis gradebook.db grading exports feedback_html reports
	find . -name __pycache__ -not -path './$(VENV)/*' -exec rm -rf {} +
