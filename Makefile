# The two commands of the README. Both create the venv and install the project when needed.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test install bench clean-demo

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip setuptools wheel
	$(BIN)/pip install -e '.[test]'
	touch $@

install: $(VENV)/.installed

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: install
	$(BIN)/gan-train model=ns_gan dataset=triangles eval=none train.steps=400 train.eval_every_steps=200 \
	    train.batch_size=32 train.threads=2 run_dir=runs/demo/ns_gan_triangles

bench: install
	$(BIN)/python benchmarks/run_all.py
