# The two commands: `make demo` (audit the bundled synthetic demo county) and
# `make test`. Both create .venv and install the project into it on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out/demo

.PHONY: demo test bench scenarios browser clean

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

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]" || echo "bench extra not fully installed: missing peers are skipped"
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf out .pytest_cache
