# Two commands: `make test` (lint, types, tests) and `make demo` (the pipeline on a bundled example).
# Each creates .venv when missing and installs what it needs.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-ci test-slow lint demo clean

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

# Tests that need more than Python: a local Ray instance (the `ray` extra) and headless
# Chromium (Debian's package, installed here when we are root with apt-get; else its test
# skips and says why). CI runs this after `make test`.
CI_STAMP := $(VENV)/.installed-ci
$(CI_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,ray]'
	@touch $(CI_STAMP)

test-ci: $(CI_STAMP)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium (Debian) for the report screenshot test"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "note: chromium is missing and cannot be installed here; its test will skip"; fi; }
	$(BIN)/pytest -q -m ci

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

# The pipeline on the bundled example, against the model configured in the environment
# (AGENTLESS_MODEL, OPENAI_BASE_URL, OPENAI_API_KEY) or in ./agentless.toml.
demo: $(STAMP)
	$(BIN)/agentless run --repo examples/textstats --issue examples/textstats/ISSUE.md \
		--test-cmd "python -m pytest -q -p no:cacheprovider tests" --out runs/demo

clean:
	rm -rf $(VENV) build dist *.egg-info
