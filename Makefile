# Every target installs what it needs first; `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test unit lint demo bench package deploy clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: lint unit

unit: install
	$(BIN)/python -m pytest -q -p no:randomly tests

lint: install
	$(BIN)/ruff check functions tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

demo: install
	$(BIN)/netwarden demo

bench: install
	$(BIN)/python -m pytest -q benchmarks --benchmark-only --benchmark-columns=min,median,max,rounds

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .benchmarks
