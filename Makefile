# The two commands of the README: `make demo` and `make test`.
# Each creates .venv on first use and installs what it needs (again when pyproject.toml changes).
# PYTHON and VENV can be given (`make test-fast PYTHON=python3.12 VENV=.venv-3.12`).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# the other Pythons `make test-matrix` looks for (3.11 gets Mesa 3.3; 3.12 and 3.13 get Mesa 3.5)
MATRIX ?= 3.12 3.13

.PHONY: demo dashboard test test-fast test-matrix install bench bench-dashboard clean
# `make dashboard SCENARIO=head-to-head ARMS=ignore,recover` shows another scenario or other arms
SCENARIO ?= quickstart
ARMS ?=

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the package alone: what `make demo` and `grapevine run` need. The distribution is grapevine-abm
# (the index's "grapevine" is another project); a venv made when it was called grapevine drops
# that first, so that one installed copy owns the `grapevine` command.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip uninstall --quiet --yes grapevine 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -c "import sim.compiled; sim.compiled.warm()"  # numba compiles its kernels here, once
	touch $@

# plus the dashboard extra (Solara, pinned to the release whose assets it serves offline)
$(VENV)/.installed-dashboard: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dashboard]"
	touch $@

# plus the test, notebook and dashboard extras: what the test suite exercises
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test,notebooks,dashboard]"
	touch $@ $(VENV)/.installed-dashboard

install: $(VENV)/.installed

# the demo installs the dashboard extra too, so that `grapevine dashboard quickstart` works next
demo: $(VENV)/.installed-dashboard
	$(BIN)/grapevine demo
	@echo "Next: .venv/bin/grapevine dashboard quickstart (or make dashboard): the arms side by side, live"

# installs the dashboard extra if needed, then serves the scenario's arms side by side on 127.0.0.1:8765
dashboard: $(VENV)/.installed-dashboard
	$(BIN)/grapevine dashboard $(SCENARIO) $(if $(ARMS),--arms $(ARMS))

# tests run on TEST_WORKERS processes (pytest-xdist); the CI machine has 2 cores
TEST_WORKERS ?= 2

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# the specification tests (rules, policies, scenario files, API): about a minute on 2 cores
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not slow and not browser and not cluster and not notebooks"

# The fast tier and the dashboard in Chromium on each Python of MATRIX found here (own venvs,
# .venv-3.12, ...), and a shipped scenario's results compared byte for byte with this Python's.
test-matrix: $(VENV)/.installed-test
	MATRIX="$(MATRIX)" DEFAULT_VENV="$(VENV)" .ci/test-matrix

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_engine.py

# the dashboard's months a second, in-process and in Chromium (bench/README.md)
bench-dashboard: $(VENV)/.installed-test
	$(BIN)/python bench/bench_dashboard.py

clean:
	rm -rf $(VENV) .venv-3.* build *.egg-info
