# The two commands of the README:
#   make replicate   install into .venv and run the main job (citydip replicate)
#   make test        install into .venv (with test extras) and run the whole test suite
# and, for development:
#   make test-fast   the tests that are not slow, execute no notebooks and need no published files
#                    (under 2 minutes); FAST="not slow and not notebooks" adds the quick real-data tests
#   make lock        regenerate requirements.lock from pyproject.toml (needs uv; UPGRADE=1 to move pins)
#
# `make install` installs the exact versions of requirements.lock (Python 3.11, Linux), then citydip
# itself without dependencies; it reinstalls when the lock or pyproject.toml changes.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
UV ?= uv
PYTEST := $(BIN)/python -m pytest
#: Marker expression of `make test-fast` (markers: pyproject.toml, [tool.pytest.ini_options]).
FAST ?= not slow and not notebooks and not real_data

.PHONY: install replicate test test-fast lock clean

$(BIN)/.citydip-installed: $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/.citydip-installed

replicate: install
	$(BIN)/citydip replicate

test: install
	$(PYTEST) -q

test-fast: install
	$(PYTEST) -q -m "$(FAST)"

# The lock keeps its current pins where they still satisfy pyproject.toml (uv reads the existing
# output file as preferences); UPGRADE=1 moves every pin to the newest allowed version. Python
# 3.11.5, not 3.11: the pinned soupsieve 4.1.3 requires it.
lock:
	@command -v $(UV) >/dev/null 2>&1 || { echo "make lock needs uv: pip install --user uv (or UV=/path/to/uv)" >&2; exit 1; }
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11.5 --python-platform linux \
		--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) -o $(LOCK)

clean:
	rm -rf build .pytest_cache
