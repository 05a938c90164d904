# Two commands on a fresh machine (Python 3.11+ and make): `make demo` and `make test`.
# Everything lands in a local virtualenv (.venv); nothing is installed system-wide.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean fuzz

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

# The issue 12 campaign: mutated server flights (four families) and PKCS#12 files (four
# levels); exits non-zero on any escape, hang or wire-order violation.
FLIGHTS ?= 20000
FILES   ?= 10000
fuzz: $(STAMP)
	$(BIN)/python -m tlsengine.testing.fuzz --flights $(FLIGHTS) --pkcs12 $(FILES)

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache .mypy_cache *.egg-info
