# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKSPACE ?= workspace
PERSONS ?= 10000
RUN_YEAR ?= 2021
YEARS ?= 2017-2022

REPORT_PERSONS ?= 6000

.PHONY: demo test lint bench contract clean reports

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,spark,reports]'
	touch $@ $(VENV)/.installed

# The main job end to end: synthetic population -> intake -> attribution and scale -> TCOC and growth -> quality
# -> an immutable settlement run for $(RUN_YEAR) -> every report as HTML and XLSX (`make reports` adds PDF).
demo: $(VENV)/.reports-installed
	$(BIN)/allpayer demo --workspace $(WORKSPACE) --persons $(PERSONS) --years $(YEARS)
	$(BIN)/allpayer attribute -w $(WORKSPACE)
	$(BIN)/allpayer scale -w $(WORKSPACE)
	$(BIN)/allpayer tcoc -w $(WORKSPACE)
	$(BIN)/allpayer growth -w $(WORKSPACE)
	$(BIN)/allpayer quality -w $(WORKSPACE) --year $(RUN_YEAR)
	$(BIN)/allpayer run -w $(WORKSPACE) --year $(RUN_YEAR)
	for kind in tcoc scale settlement employer aco-budget public; do for format in html xlsx; do \
	  $(BIN)/allpayer report $$kind --run latest --format $$format -w $(WORKSPACE) || exit 1; done; done

# Two workers, one per core, each taking whole test files (module fixtures are built once); a test that hangs
# fails after 20 minutes with its stack instead of stalling CI; the slowest tests are listed at the end.
test: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --timeout 1200 --durations 25

$(VENV)/.reports-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[reports]'
	touch $@ $(VENV)/.installed

# Every report in every format from a synthetic population, into $(WORKSPACE)/reports (docs/reports.md).
reports: $(VENV)/.reports-installed
	$(BIN)/allpayer demo --workspace $(WORKSPACE) --persons $(REPORT_PERSONS) --years 2017-2020
	$(BIN)/allpayer attribute -w $(WORKSPACE) > /dev/null
	$(BIN)/allpayer scale -w $(WORKSPACE) > /dev/null
	$(BIN)/allpayer tcoc -w $(WORKSPACE) > /dev/null
	$(BIN)/allpayer growth -w $(WORKSPACE) > /dev/null
	$(BIN)/allpayer quality -w $(WORKSPACE) > /dev/null
	$(BIN)/allpayer run -w $(WORKSPACE) --year 2019
	for kind in tcoc scale settlement employer aco-budget public; do for format in html xlsx pdf; do \
	  $(BIN)/allpayer report $$kind --run latest --format $$format -w $(WORKSPACE) || exit 1; done; done

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/bench_intake.py

contract: $(VENV)/.installed
	$(BIN)/allpayer contract > docs/data-contract.md

clean:
	rm -rf $(VENV) $(WORKSPACE)
