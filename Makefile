# The two commands of the README: `make run` and `make test`, from a fresh clone with only
# Python 3.11+ and make. Both create .venv when it is missing and (re)install the project
# into it when pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test venv

run: $(INSTALLED)
	$(BIN)/fleetyard serve

test: $(INSTALLED)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

venv: $(INSTALLED)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -qq -e '.[test]'
	touch $@
