# Every target builds its own virtual environment first, so each works on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test reliability bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/arpilot web

test: install
	$(BIN)/python -m pytest

# The fault-injection and crash suite; its figures (faults injected, crashes survived, duplicates
# found) land in test-artifacts/reliability.json, whose totals the README's Reliability section quotes.
reliability: install
	rm -f test-artifacts/reliability.json
	$(BIN)/python -m pytest -q tests/reliability
	$(BIN)/python -c "import json; print(json.dumps(json.load(open('test-artifacts/reliability.json'))['totals'], indent=2))"

clean:
	rm -rf $(VENV) var .pytest_cache
