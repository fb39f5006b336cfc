# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run    the app on SQLite with demo data, at http://127.0.0.1:8000/
#   make test   the whole test suite (installs Chromium for the browser tests if it must)
#   make bench  the budget table (docs/benchmarks.md); `make bench BENCH_QUICK=1` for a smaller run
# For phones on the same network: `make cert NAMES="192.168.1.20"`, then
# `make run HOST=0.0.0.0 PORT=8443`: it serves HTTPS once $(TLS_DIR)/cert.pem exists.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TLS_DIR ?= data/tls
NAMES ?= localhost 127.0.0.1
TLS := $(if $(wildcard $(TLS_DIR)/cert.pem),--tls-cert $(TLS_DIR)/cert.pem --tls-key $(TLS_DIR)/key.pem)

.PHONY: run cert test bench screenshots clean

run: $(VENV)/.installed
	$(BIN)/nuanxin serve --demo --host $(HOST) --port $(PORT) $(TLS)

cert:
	deploy/local-cert.sh $(TLS_DIR) $(NAMES)

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
