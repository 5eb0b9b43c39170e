# Two entry points for a fresh Debian machine with Python 3.11 and make:
#   make run   - set up, load the bundled sample data, serve http://127.0.0.1:8000
#   make test  - set up (including Debian's chromium and a Java runtime for Spark when root),
#                run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install browser java sample bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Browser tests drive Debian's chromium; installed when we may (root), skipped otherwise.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "note: not root, chromium not installed; browser tests will be skipped"; fi; \
	fi

# The Spark engine's tests run Spark in local mode, which needs Java; installed when we may
# (root). With Java present the Spark tests must pass: they fail, never skip, if Spark breaks.
java:
	@if ! command -v java >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null) \
	      || echo "warning: could not install Java; the Spark tests will be skipped"; \
	  else echo "note: not root, Java not installed; the Spark tests will be skipped"; fi; \
	fi

sample: install
	$(BIN)/ictgov db upgrade
	$(BIN)/ictgov sample load
	$(BIN)/ictgov users ensure-admin

run: sample
	$(BIN)/ictgov serve --host $(HOST) --port $(PORT)

test: install browser java
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/stats_engine.py

clean:
	rm -rf $(VENV) var .pytest_cache
