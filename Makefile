# 评审系统 — make run | make test | make lint | make bench
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# axe-core for the accessibility browser tests (package.json, package-lock.json): npm ci
# writes node_modules/.package-lock.json, which is the stamp.
NODE_STAMP := node_modules/.package-lock.json
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := judging

.PHONY: run serve test test-sqlite test-postgres lint format bench setup translations catalogs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP) catalogs $(NODE_STAMP)

# Without npm the accessibility tests skip locally (and fail under CI, where .ci/run
# installs npm first).
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund && touch $(NODE_STAMP); \
	else echo "npm is not installed: skipping axe-core (the accessibility tests need it)"; fi

# Compiled catalogs are build output (not committed): made from the .po sources.
catalogs: $(STAMP)
	$(BIN)/pybabel compile --statistics -d judging/translations

# Re-extract the strings and merge them into the catalogs (run after changing UI text).
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o judging/translations/messages.pot judging templates
	$(BIN)/pybabel update -i judging/translations/messages.pot -d judging/translations --no-fuzzy-matching

# The demo signs its sessions with a key kept in instance/secret_key unless SECRET_KEY is set.
run: export SECRET_KEY_FILE ?= $(CURDIR)/instance/secret_key
run: setup
	$(BIN)/flask init-db
	$(BIN)/flask seed-demo
	@echo
	@echo "Demo sign-ins (http://$(HOST):$(PORT)/sign-in):"
	@$(BIN)/flask demo-sign-ins
	@echo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Production: the schema brought up to date, then gunicorn with gunicorn.conf.py (BIND,
# WEB_CONCURRENCY, THREADS, TIMEOUT… from the environment). Needs SECRET_KEY (or
# SECRET_KEY_FILE) and DATABASE_URL; see README "Serving in production".
serve: $(STAMP) catalogs
	$(BIN)/flask init-db
	exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The suite on SQLite, then again on PostgreSQL in a fresh database when TEST_DATABASE_URL is set.
test: setup lint test-sqlite test-postgres

test-sqlite: setup
	env -u TEST_DATABASE_URL $(BIN)/pytest

test-postgres: setup
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  $(BIN)/python -m tests.fresh_database "$$TEST_DATABASE_URL" && $(BIN)/pytest; \
	else echo "TEST_DATABASE_URL is not set: skipping the PostgreSQL run"; fi

# Every bench/*.py except the shared helpers and the profile (bench/scoring_profile.py, run
# by hand); each prints medians and a same-run baseline, except bench/soak.py, which prints
# what survived crashes (and fails when a sheet was lost or duplicated).
BENCH_HELPERS := bench/__init__.py bench/common.py bench/wsgi_app.py \
                 bench/bare_hello.py bench/bare_upsert.py bench/crowd.py bench/contest_data.py \
                 bench/scoring_profile.py
BENCHES := $(filter-out $(BENCH_HELPERS),$(wildcard bench/*.py))

bench: setup
	@for script in $(BENCHES); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules instance/*.sqlite* .pytest_cache
