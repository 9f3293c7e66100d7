# Two commands set everything up on a fresh machine: `make test` and `make demo`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test test-fast demo demo-full clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) setup.py
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n 2 --durations=15 tests

test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow" tests

demo: $(STAMP)
	$(PY) scripts/demo.py

# The same networks trained long enough for the 3D targets (docs/demo.md, "The full budget"): about an hour on 2 cores.
demo-full: $(STAMP)
	$(PY) scripts/demo.py --budget=full

clean:
	rm -rf $(VENV) build *.egg-info
