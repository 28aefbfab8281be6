# The two commands of the README:
#   make replicate   install into .venv and run the main job (citydip replicate)
#   make test        install into .venv (with test extras) and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install replicate test clean

$(BIN)/.citydip-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.citydip-installed

replicate: install
	$(BIN)/citydip replicate

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf build .pytest_cache
