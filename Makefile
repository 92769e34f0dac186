# sleepbook: `make book` builds the book on the default (quick) profile from a fresh clone,
# `make test` runs every check CI runs. Both do all the setup they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= quick
# worker processes for the chapters' units (default: every core; 1 = in-process)
WORKERS ?=
PARALLEL := $(if $(WORKERS),--workers $(WORKERS))

.PHONY: setup lock data book paper test unit smoke check lint bench clean

setup: $(VENV)/.installed

# torch first, from the exact CPU wheel this machine has; then every other package at the exact
# version and hash requirements.lock names (torch is not in it); then the package itself, built
# by the locked setuptools and installed without resolving anything further. (setuptools says
# on every editable install that a folder named like the package may shadow it: here that
# folder is the package, so the notice is silenced for this one command.)
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	PYTHONWARNINGS="ignore:Editable installation" \
	  $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Refresh requirements.lock: the newest releases that fit pyproject.toml, every one with its
# hashes (pip-compile; its settings are [tool.pip-tools] in pyproject.toml). The lock's hash is
# part of the machine signature the check compares, so refreeze the reference afterwards
# (`make book`, then `sleepbook freeze --profile quick`) once the moves are understood.
lock: setup
	$(BIN)/pip-compile --quiet --upgrade pyproject.toml
	$(MAKE) setup

# Fashion-MNIST comes from Debian's dataset-fashion-mnist; install it when we may (root + apt).
data: setup
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null \
	    && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null \
	    || echo "could not install dataset-fashion-mnist"; fi
	$(BIN)/sleepbook data

book: data
	$(BIN)/sleepbook build --profile $(PROFILE) $(PARALLEL)

paper: data
	$(BIN)/sleepbook build --profile paper $(PARALLEL)

# ruff, and the package's layers contract (pyproject.toml, [tool.importlinter])
lint: setup
	$(BIN)/ruff check sleeputils tests benchmarks
	$(BIN)/lint-imports

# one test process per core (pytest-xdist): the tests compute on one thread each
# (tests/conftest.py); the 15 slowest tests are listed, so a CI log shows where the time went
PYTEST := $(BIN)/python -m pytest -q -n auto --durations=15
unit: data
	$(PYTEST)

# every chapter notebook end to end on the smoke profile (part of `make unit`)
smoke: data
	$(PYTEST) -m notebook

# unit tests, the quick book, and its numbers (the build has just run every chapter, so the
# check compares without running them again). The notebooks' smoke runs (`make smoke`) are left
# out: the quick build runs every notebook on real data, and they would add 5 core-minutes
test: data lint
	$(PYTEST) -m "not notebook"
	$(BIN)/sleepbook build --profile quick $(PARALLEL)
	$(BIN)/sleepbook check --profile quick --no-run

bench: setup
	$(BIN)/python benchmarks/sleep_speed.py
	$(BIN)/python benchmarks/parallel_speed.py
	$(BIN)/python benchmarks/unit_speed.py

clean:
	rm -rf _build book/chapters book/_generated
