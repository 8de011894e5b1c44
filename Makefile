# Two commands: `make test` (lint, types, tests) and `make demo` (the pipeline on a bundled example).
# Each creates .venv when missing and installs what it needs.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-slow lint demo clean exercise-deps

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: need Python >= 3.10 on PATH (python3.10 .. python3.13)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check agentless tests benchmarks
	$(BIN)/ruff format --check agentless tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q -n 2 --dist loadfile

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

# The pipeline on the bundled example, against the model configured in the environment
# (AGENTLESS_MODEL, OPENAI_BASE_URL, OPENAI_API_KEY) or in ./agentless.toml.
demo: $(STAMP)
	$(BIN)/agentless run --repo examples/textstats --issue examples/textstats/ISSUE.md \
		--test-cmd "python -m pytest -q -p no:cacheprovider tests" --out runs/demo

# What `agentless exercises` needs beyond node/npm, cargo, cmake/g++ and a JDK, from Debian's
# packages (as root): Go, JUnit 5 and AssertJ jars, the crates some Rust exercises use (crates.io
# is not reachable) and Boost's date_time for two C++ exercises.
exercise-deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang junit5 libassertj-core-java \
		libbyte-buddy-java librust-time-dev librust-anyhow-dev librust-rand-dev \
		librust-thiserror-dev libboost-date-time-dev

clean:
	rm -rf $(VENV) build dist *.egg-info
