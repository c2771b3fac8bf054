# The two commands of the README. Both create the venv and install the project when needed.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test install bench

$(VENV)/.installed: pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip setuptools wheel
	$(BIN)/pip install -e '.[test]'
	touch $@

install: $(VENV)/.installed

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The demo study (conf/experiment/demo.yaml): re-running resumes it; DEMO_ARGS adds gan-sweep overrides.
DEMO_STUDIES := [demo-ns_gan,demo-lsgan,demo-wgan_gp]
DEMO_ARGS ?=

demo: install
	$(BIN)/gan-sweep experiment=demo $(DEMO_ARGS)
	$(BIN)/gan-report storage.url=journal:runs/demo/studies.journal study=$(DEMO_STUDIES) \
	    metric=precision_median_distance out=reports/demo

bench: install
	$(BIN)/python benchmarks/run_all.py
