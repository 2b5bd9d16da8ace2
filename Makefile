# skilllab: every target does its own set-up (creates .venv and installs into it).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export MPLBACKEND := Agg

.PHONY: install test replay bench lab lint clean

install: $(STAMP)

# torch goes in first, as the CPU build pinned in constraints.txt, so that sentence-transformers
# does not pull a CUDA build of several GB.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q tests --nbval-lax notebooks

replay: install
	$(BIN)/skilllab replay datasets/sre-sessions.jsonl --results results --audit

bench: install
	$(BIN)/python -m skilllab.lab.bench --out results/bench.json $(BENCH_ARGS)

lab: install
	$(BIN)/jupyter lab notebooks/ --no-browser --ip 127.0.0.1 --ServerApp.allow_root=True

lint: install
	$(BIN)/ruff check skilllab tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) results/demo-library .pytest_cache
