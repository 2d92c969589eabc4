# The two commands: `make demo` (audit the bundled synthetic demo county) and
# `make test`. Both create .venv and install the project into it on first use.
# `make lint` runs ruff and mypy as configured in pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out/demo

.PHONY: demo test lint bench scenarios browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/healthreach audit --out $(OUT)
	cp $(OUT)/map.html maps/demo.html

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check healthreach tests benchmarks tools
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]" || echo "bench extra not fully installed: missing peers are skipped"
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
