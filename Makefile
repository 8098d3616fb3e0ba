# Every target does its own set-up: a fresh clone needs python3.11, node/npm and a JDK, plus the
# Google Cloud CLI's Firestore emulator (see README).
PYTHON ?= python3.11
VENV := functions/venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
FIREBASE := node_modules/.bin/firebase
WEB_BUNDLE := web/dist/app.js
HOSTING := $(shell sed -n 's/.*"hosting": *{ *"host": *"\([^"]*\)", *"port": *\([0-9]*\).*/\1:\2/p' firebase.json)
# The project id has one home, .firebaserc (projects.default), which the CLI and tools/ read too.
PROJECT := $(shell sed -n 's/.*"default": *"\([^"]*\)".*/\1/p' .firebaserc)

.PHONY: setup chromium demo demo-local serve test lint format bench route emulator-data clean

setup: $(STAMP) $(NPM_STAMP) $(WEB_BUNDLE) chromium

$(STAMP): requirements.txt functions/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

# The web app (web/ -> web/dist, served by the hosting emulator); never committed.
$(WEB_BUNDLE): $(NPM_STAMP) web/build.mjs web/index.html web/styles.css $(wildcard web/src/*.js) firebase.json
	npm run --silent build

# The browser tests drive Debian's Chromium (browser builds cannot be downloaded here).
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# The main job on the emulators: the demo user calls execute_strategy for all four classes.
demo: setup
	PYTHONPATH=functions $(PY) -m tools.emulator_demo

# The same scenario in-process, without Firebase.
demo-local: $(STAMP)
	cd functions && ../$(PY) -m smart_routing demo

# Emulators with the demo data and the web app, left running (Ctrl-C stops them).
serve: setup
	@echo "The web app: http://$(HOSTING)/ (demo@example.com / demo-password), once the emulators are ready"
	FIRESTORE_EMULATOR_BINARY_PATH=$$(scripts/firestore-emulator-jar.sh) \
	  $(FIREBASE) emulators:start --only auth,firestore,functions,hosting --project $(PROJECT) \
	  --import emulator-data

test: setup lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy  # over functions/, as [tool.mypy] in pyproject.toml says

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: setup
	PYTHONPATH=functions $(PY) bench/bench_core.py
	$(PY) bench/bench_cold_start.py
	PYTHONPATH=functions:. $(PY) bench/bench_venues.py
	PYTHONPATH=functions:. $(PY) bench/bench_emulator.py
	PYTHONPATH=functions:. $(PY) bench/bench_guards.py
	PYTHONPATH=functions:. $(PY) bench/bench_fanout.py
	PYTHONPATH=functions:. $(PY) bench/bench_reconcile_fanout.py
	PYTHONPATH=functions:. $(PY) bench/bench_web.py
	$(PY) bench/bench_replay.py

# make route ARGS="--symbol BTC/USD --bid 49950 --ask 50050"
route: $(STAMP)
	cd functions && ../$(PY) -m smart_routing route $(ARGS)

# Rebuild emulator-data/ from scripts/seed_emulator_data.py.
emulator-data: setup
	rm -rf emulator-data
	FIRESTORE_EMULATOR_BINARY_PATH=$$(scripts/firestore-emulator-jar.sh) \
	  $(FIREBASE) emulators:exec --only auth,firestore --project $(PROJECT) \
	  --export-on-exit emulator-data "$(PY) scripts/seed_emulator_data.py"

clean:
	rm -rf $(VENV) node_modules .cache .pytest_cache .ruff_cache .hypothesis .benchmarks
