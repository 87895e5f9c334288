# The two commands that matter: `make run` (the app) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# `make run PORT=8502` when 8501 is taken.
PORT ?= 8501

.PHONY: install run test lint bench bench-browser clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: install
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

bench: install
	$(PY) bench/engine.py

bench-browser: install
	$(PY) bench/playground_browser.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/e2e/screenshots
