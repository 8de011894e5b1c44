# Two commands: `make test` (lint, types, tests) and `make demo` (the pipeline on a bundled example).
# Each creates .venv when missing and installs what it needs.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCAL_STAMP := $(VENV)/.installed-local
CORES := $(shell nproc 2>/dev/null || echo 2)
# llama.cpp is compiled for any x86-64/arm64 CPU (no -march=native), without the multimodal
# tools the server does not need, on every core. uv keeps the built wheel in its cache, so
# the next virtualenv installs it in seconds.
LLAMA_BUILD := CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$(CORES)
TEST_MODEL := smollm2-135m
# Tests start Python a few thousand times (the CLI, test runs of the example repositories): with
# PYTHONDONTWRITEBYTECODE set each start compiles what it imports from source again (7.5 s of
# pytest's collection alone, instead of 1.4 s). Our recipes keep the bytecode Python writes.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: test test-ci test-slow lint demo clean exercise-deps

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: need Python >= 3.10 on PATH (python3.10 .. python3.13)"; exit 1; }
	$(PYTHON) -m venv --without-pip $(VENV)

# uv installs into the virtualenv: pip spent 20-40 s of a fresh clone's `make test` resolving
# (matching ~116,000 wheel links of the package index against the interpreter), uv 3 s, and it
# links the files from its cache. Like pip it compiles no bytecode at install (most modules
# are swebench's dependencies, which the tests barely import); Python compiles on first use.
UV_PIN := uv==0.13.9
UV_INSTALL := $(BIN)/uv pip install -q --python $(BIN)/python

# The virtualenv gets no pip of its own (ensurepip's install of it took 5 s of a fresh clone's
# set-up): uv is installed by running the pip wheel that ensurepip carries as a program, and
# pip itself comes with the local extra (serve-local fetches models with it). Where ensurepip
# carries no wheel (Debian's python3 without python3-venv), ensurepip is asked as before.
PIP_WHEEL = $(shell $(BIN)/python -c 'import ensurepip, glob, os; \
	print(*glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))[:1])' 2>/dev/null)

PIP = $(if $(PIP_WHEEL),$(BIN)/python $(PIP_WHEEL)/pip,$(BIN)/python -m pip) --disable-pip-version-check

$(BIN)/uv: $(BIN)/python
	@[ -n "$(PIP_WHEEL)" ] || $(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null
	$(PIP) install -q $(UV_PIN)

$(STAMP): $(BIN)/uv pyproject.toml
	$(UV_INSTALL) -e '.[dev]'
	@touch $(STAMP)

# One install for both extras when neither is there yet (a fresh clone's `make test`).
# llama-cpp-python comes as source only; pip builds it once and keeps the wheel in its cache
# (uv rebuilt it for every new virtualenv here: its cache of a build follows the download's
# HTTP revalidation), and hands it to uv from there.
LLAMA_PIN := $(shell sed -n 's/.*"\(llama-cpp-python\)\[server\]\(==[^"]*\)".*/\1\2/p' pyproject.toml)
WHEELS := $(VENV)/wheels

$(LOCAL_STAMP): $(BIN)/uv pyproject.toml
	@echo "installing the local extra ($(LLAMA_PIN)): the first time it is built from source, about 5-15 min on 2 cores"
	$(LLAMA_BUILD) $(PIP) wheel -q --no-deps --wheel-dir $(WHEELS) '$(LLAMA_PIN)'
	$(UV_INSTALL) --find-links $(WHEELS) -e '.[dev,local]'
	@touch $(STAMP) $(LOCAL_STAMP)

LINTED := agentless tests benchmarks examples/demo.py
# mypy's cache lives beside pip's and uv's, not in the clone: a fresh clone's mypy took 6-9 s
# of a core beside the tests, 0.3 s with the cache (it rechecks any file whose hash changed).
MYPY_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/agentless/mypy
LINT := $(BIN)/ruff check $(LINTED) && $(BIN)/ruff format --check $(LINTED) && \
	$(BIN)/mypy --cache-dir $(MYPY_CACHE)

lint: $(STAMP)
	$(LINT)

# The tests' temporary folders (16,000 files a run) go in the checkout, the last run's kept for
# a look and deleted in the background while the next runs: pytest's own default keeps three
# runs in /tmp and deletes the oldest when it exits (20-50 s on a disk mounted with discard).
TEST_TMP := $(VENV)/test-tmp
FRESH_TMP = rm -rf $(TEST_TMP)/$(1).old; [ ! -d $(TEST_TMP)/$(1) ] || mv $(TEST_TMP)/$(1) $(TEST_TMP)/$(1).old; \
	( rm -rf $(TEST_TMP)/$(1).old & ); mkdir -p $(TEST_TMP)

# The real-server tests need llama.cpp's server and the small test model (from the registry).
# Lint and types are checked beside the tests (which leave a core idle a third of the time);
# their report follows the tests', and either failing fails the target.
test: $(LOCAL_STAMP)
	$(BIN)/agentless serve-local --model $(TEST_MODEL) --download-only
	@$(call FRESH_TMP,test)
	@( $(LINT) ) > $(VENV)/lint.log 2>&1 & lint=$$!; \
	$(BIN)/pytest -q -n 4 --dist loadgroup --no-loadscope-reorder --basetemp=$(TEST_TMP)/test; tests=$$?; \
	wait $$lint; linted=$$?; echo "--- ruff, mypy"; cat $(VENV)/lint.log; \
	[ $$linted = 0 ] || echo "lint or types failed (make lint)"; [ $$tests = 0 ] && [ $$linted = 0 ]

# Tests that need more than Python: a local Ray instance (the `ray` extra), headless Chromium
# and bubblewrap (Debian's packages, installed here when we are root with apt-get; else their
# tests skip and say why). `make test` runs the bubblewrap cases too where bwrap is on PATH;
# here they run on every CI machine. CI runs this after `make test`.
CI_STAMP := $(VENV)/.installed-ci
CI_DEBS := $(if $(shell command -v chromium || command -v chromium-browser),,chromium) \
	$(if $(shell command -v bwrap),,bubblewrap)

$(CI_STAMP): $(STAMP)
	$(UV_INSTALL) -e '.[dev,ray]'
	@touch $(CI_STAMP)

test-ci: $(CI_STAMP)
	@[ -z "$(strip $(CI_DEBS))" ] || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing $(strip $(CI_DEBS)) (Debian) for the screenshot and sandbox tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CI_DEBS) >/dev/null; \
		else echo "note: $(strip $(CI_DEBS)) missing and not installable here; their tests will skip"; fi; }
	@$(call FRESH_TMP,ci)
	$(BIN)/pytest -q -m 'ci or bwrap' -rs --basetemp=$(TEST_TMP)/ci

test-slow: $(STAMP)
	@$(call FRESH_TMP,slow)
	$(BIN)/pytest -q -m slow --basetemp=$(TEST_TMP)/slow

# The pipeline on the bundled example. With AGENTLESS_MODEL and OPENAI_BASE_URL set it uses that
# endpoint; otherwise it serves the embedded model (built and fetched on first use).
ifeq ($(and $(OPENAI_BASE_URL),$(AGENTLESS_MODEL)),)
DEMO_NEEDS := $(LOCAL_STAMP)
else
DEMO_NEEDS := $(STAMP)
endif
demo: $(DEMO_NEEDS)
	$(BIN)/python examples/demo.py $(DEMO_ARGS)

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
