# Every target builds its own virtual environment first, so each works on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install browser demo test lint lint-format lint-findings lint-baseline reliability audit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's chromium (Playwright's own browser downloads are not used).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

# A font of its own: without recommends, chromium on a bare machine may have none to draw text with.
# (The PDFs need none: integration/documents/fonts/ ships their DejaVu Sans with the package.)
BROWSER_PACKAGES := chromium fonts-dejavu-core
BROWSER_FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

browser:
	@(test -x $(CHROMIUM) && test -f $(BROWSER_FONT)) || $(APT) install -y --no-install-recommends $(BROWSER_PACKAGES) \
		|| ($(APT) update && $(APT) install -y --no-install-recommends $(BROWSER_PACKAGES))

demo: install
	$(BIN)/arpilot web

test: install browser
	$(BIN)/python -m pytest

# ruff (lint) and mypy over the whole tree, held to lint-baseline.txt by tools/lint_baseline.py: a
# finding not recorded there fails, a fixed one asks for `make lint-baseline`, which rewrites the
# file and refuses to record more findings of any rule than before (override once, on purpose, with
# `make lint-baseline LINT_BASELINE_ARGS=--allow-growth`). mypy is strict on integration/policy and
# connectors (pyproject.toml); their findings are counted apart.
# The whole tree is formatted by ruff (migrations aside, see pyproject.toml): `ruff format .` before committing.
LINT_FORMATTED := .
LINT_TOOLS := --ruff $(BIN)/ruff --mypy $(BIN)/mypy

lint: lint-format lint-findings

lint-format: install
	$(BIN)/ruff format --check $(LINT_FORMATTED)

lint-findings: install
	$(BIN)/python tools/lint_baseline.py $(LINT_TOOLS)

lint-baseline: install
	$(BIN)/python tools/lint_baseline.py --update $(LINT_TOOLS) $(LINT_BASELINE_ARGS)

# The fault-injection, crash, security, bad-input and fuzzing suites; their figures land in
# test-artifacts/reliability.json, whose totals docs/reliability.md quotes.
reliability: install
	rm -f test-artifacts/reliability.json
	$(BIN)/python -m pytest -q tests/reliability tests/security
	$(BIN)/python bench/reliability_report.py
# Sizes: BENCH_SYNC_INVOICES=2000 make bench (see bench/run.py), or make bench BENCH_ARGS="--sync-invoices 2000".
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Known vulnerabilities in the installed dependencies (PyPI's advisory data, over the network).
# --strict: a dependency that could not be checked fails the audit instead of passing unchecked.
# arpilot itself is the editable install and has no PyPI entry to check.
audit: install
	$(BIN)/pip-audit --strict --skip-editable --progress-spinner off

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts
