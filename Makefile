# Two commands on a fresh machine (Python 3.11+ and make): `make demo` and `make test`.
# Everything lands in a local virtualenv (.venv); nothing is installed system-wide.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tlsengine demo

lint: $(STAMP)
	$(BIN)/ruff check tlsengine tests bench
	$(BIN)/ruff format --check tlsengine tests bench
	$(BIN)/mypy tlsengine

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache .mypy_cache *.egg-info
