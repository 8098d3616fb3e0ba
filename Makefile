# Every target does its own set-up: a fresh clone needs nothing but python3.11.
PYTHON ?= python3.11
VENV := functions/venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint format bench route clean

setup: $(STAMP)

$(STAMP): requirements.txt functions/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

demo: $(STAMP)
	cd functions && ../$(PY) -m smart_routing demo

test: $(STAMP) lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: $(STAMP)
	PYTHONPATH=functions $(PY) bench/bench_core.py

# make route ARGS="--symbol BTC/USD --bid 49950 --ask 50050"
route: $(STAMP)
	cd functions && ../$(PY) -m smart_routing route $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .benchmarks
