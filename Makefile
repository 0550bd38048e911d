# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKSPACE ?= workspace
PERSONS ?= 20000
YEARS ?= 2017-2022

.PHONY: demo test lint bench contract clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/allpayer demo --workspace $(WORKSPACE) --persons $(PERSONS) --years $(YEARS)

test: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_intake.py

contract: $(VENV)/.installed
	$(BIN)/allpayer contract > docs/data-contract.md

clean:
	rm -rf $(VENV) $(WORKSPACE)
