# The two commands that matter: `make run` (the app) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run stack test lint bench bench-browser bench-stack clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# `make run PORT=8502` when 8501 is taken.
run: install
	$(PY) -m streamlit run app.py --server.port $(or $(PORT),8501)

# N app processes (default 2) behind HAProxy on 127.0.0.1:PORT (default 8600; the apps on PORT+1..PORT+N).
# Ctrl-C stops them all.
stack: install
	$(PY) deploy/stack.py $(or $(N),2) --port $(or $(PORT),8600)

test: install
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

bench: install
	$(PY) bench/engine.py

bench-browser: install
	$(PY) bench/playground_browser.py

# 12 sessions through HAProxy against 1, then 2 app processes (about 1 minute)
bench-stack: install
	$(PY) bench/load_stack.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/e2e/screenshots
