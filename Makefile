# The two commands of the README. Both create the venv and install the project when needed.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
# Prerequisites build side by side: `make test`'s two environments (the project's, rliable's) install at once
# (and `make demo test` would run both goals at once: run them one after the other).
MAKEFLAGS += --jobs=2
# The suite on every core (pytest-xdist), a test file per worker so module fixtures are built once; the
# slowest tests are listed at the end.
TEST_WORKERS ?= auto
# rliable.library (the cross-check of the cross-data-set statistics) in an environment of its own: it does not run
# beside pandas 3 (tests/analysis/rliable_reference.txt says why).
RLIABLE_VENV := .venv-rliable
# Where PYTHONDONTWRITEBYTECODE is set (this machine and CI set it) no process saves the project's bytecode, so each
# one would compile every module it imports (~0.25 s of CPU per trial, driver or report process). Compiled here
# before each run instead: only files changed since are compiled again.
BYTECODE := $(BIN)/python -m compileall -q analysis launch models study

.PHONY: demo test install bench

$(VENV)/.installed: pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip setuptools wheel
	$(BIN)/pip install -e '.[test]'
	touch $@

$(RLIABLE_VENV)/.installed: tests/analysis/rliable_reference.txt
	test -x $(RLIABLE_VENV)/bin/python || $(PYTHON) -m venv $(RLIABLE_VENV)
	$(RLIABLE_VENV)/bin/pip install -r $<
	touch $@

install: $(VENV)/.installed

test: install $(RLIABLE_VENV)/.installed
	$(BYTECODE)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=25 $(PYTEST_ARGS)

# The demo studies (conf/experiment/demo.yaml on Triangles, demo_digits.yaml on the UCI digits): re-running
# resumes them; DEMO_ARGS adds gan-sweep overrides to both. Where the studies live and how trials run are this
# command's choice, not the presets': two 1-thread trials side by side are faster than one 2-thread trial on 2 cores.
DEMO_STUDIES := [demo-ns_gan,demo-lsgan,demo-wgan_gp]
DIGITS_STUDIES := [demo_digits-lsgan,demo_digits-dragan]
DEMO_STORAGE := runs/demo/studies.journal
DEMO_RUN := storage.url=$(DEMO_STORAGE) launcher=local launcher.max_parallel=2 launcher.threads_per_trial=1
DEMO_ARGS ?=

demo: install
	$(BYTECODE)
	$(BIN)/gan-sweep experiment=demo $(DEMO_RUN) $(DEMO_ARGS)
	$(BIN)/gan-report storage.url=$(DEMO_STORAGE) study=$(DEMO_STUDIES) \
	    metric=precision_median_distance out=reports/demo
	$(BIN)/gan-sweep experiment=demo_digits $(DEMO_RUN) $(DEMO_ARGS)
	$(BIN)/gan-report storage.url=$(DEMO_STORAGE) study=$(DIGITS_STUDIES) \
	    metric=fid_domain_classifier out=reports/demo_digits

bench: install
	$(BIN)/python benchmarks/run_all.py
