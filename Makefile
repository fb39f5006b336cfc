# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run    the app on SQLite with demo data, at http://127.0.0.1:8000/
#   make test   the whole test suite (installs Chromium for the browser tests if it must)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench screenshots clean

run: $(VENV)/.installed
	$(BIN)/nuanxin serve --demo

test: $(VENV)/.installed
	$(BIN)/python -m tests.support.chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python -m bench.run

screenshots: $(VENV)/.installed
	$(BIN)/python -m tests.support.chromium
	$(BIN)/python -m bench.screenshots

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) data
