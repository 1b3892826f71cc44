# lms: `make run` sets everything up and serves the demo; `make test` runs the checks.
# Assumes Debian with Python 3.11+; Debian packages are installed with apt-get as root (or sudo).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app lms
HOST   ?= 127.0.0.1
PORT   ?= 5000
STAMP  := $(VENV)/.installed
# Runtime libraries WeasyPrint needs, and the tools the tests use to read PDFs and QR codes.
DEB_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 \
                poppler-utils zbar-tools libzbar0 shared-mime-info chromium postgresql-client
# make bench also needs wrk (HTTP load generator) to measure the pages under gunicorn, and haproxy
# (the loopback load balancer of the scale-out scenario).
BENCH_DEB_PACKAGES := wrk haproxy
DOMAINS := $(patsubst lms/%/translations,%,$(wildcard lms/*/translations))
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# constraints.txt pins every package `make install` takes (the versions the tests last passed with).
# `make lock` refreshes it from the current .venv after a deliberate upgrade.
SCAN_VENV := .venv-scan
.PHONY: typecheck axe scan lock help install debs translations messages db content demo run serve test test-pg lint bench bench-debs bench-quick clean

help:
	@echo "make run      set up everything and serve the demo on http://$(HOST):$(PORT)"
	@echo "make install  set up only (.venv, Debian packages, translations, database)"
	@echo "make serve    run gunicorn with gunicorn.conf.py (production-like)"
	@echo "make test     ruff + the test suite (SQLite); .ci/run adds PostgreSQL"
	@echo "make bench    run the benchmarks in bench/ (make bench-quick: 1k and 20k officers only)"

debs:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

translations: $(STAMP)
	@$(BIN)/pybabel --quiet compile -f -d lms/translations 2>/dev/null || true
	@for d in $(DOMAINS); do $(BIN)/pybabel --quiet compile -f -d lms/$$d/translations || exit 1; done

# Extract UI strings into the catalogs and merge them into the .po files. DOMAIN=core (the shared pages:
# home, auth, org) or DOMAIN=<package> limits it to one catalog; without DOMAIN every catalog is done.
DOMAIN ?= all
messages: $(STAMP)
	@if [ "$(DOMAIN)" = all ] || [ "$(DOMAIN)" = core ]; then \
	  $(BIN)/pybabel --quiet extract --no-location -F babel.cfg -k lazy -k N_ -k ngettext:1,2 -o lms/translations/messages.pot \
	    lms/*.py lms/home lms/auth lms/org templates/base.html templates/_macros templates/_partials templates/errors \
	    templates/home templates/auth templates/org && \
	  $(BIN)/pybabel --quiet update -N -i lms/translations/messages.pot -d lms/translations || exit 1; fi
	@for d in $(filter-out home auth org,$(DOMAINS)); do \
	  if [ "$(DOMAIN)" = all ] || [ "$(DOMAIN)" = $$d ]; then \
	    $(BIN)/pybabel --quiet extract --no-location -F babel.cfg -k lazy -k N_ -k ngettext:1,2 -o lms/$$d/translations/messages.pot \
	      lms/$$d $$( [ -d templates/$$d ] && echo templates/$$d ) && \
	    $(BIN)/pybabel --quiet update -N -i lms/$$d/translations/messages.pot -d lms/$$d/translations || exit 1; \
	  fi; done

install: debs $(STAMP) translations db

db: $(STAMP)
	$(FLASK) db upgrade

content: db
	@if $(FLASK) content --help >/dev/null 2>&1; then $(FLASK) content sync --publish-new; fi

demo: db
	$(FLASK) demo --if-empty

run: install content demo
	$(FLASK) run --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/gunicorn -c gunicorn.conf.py 'lms:create_app()'

typecheck: $(STAMP)
	$(BIN)/mypy

# lint-imports checks the package layers declared in .importlinter (a lower domain never imports a higher one);
# mypy checks the type hints of lms (configured in pyproject.toml) and must report no error.
lint: $(STAMP)
	$(BIN)/ruff check lms tests $(wildcard bench)
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

# axe-core for the accessibility checks of the browser tests (pinned by tests/e2e/axe/package-lock.json).
AXE_JS := tests/e2e/axe/node_modules/axe-core/axe.min.js
$(AXE_JS): tests/e2e/axe/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	cd tests/e2e/axe && npm ci --silent --no-audit --no-fund
	@touch $(AXE_JS)

axe: $(AXE_JS)

# Both runs spread the tests over one process per core (pytest-xdist): on SQLite every test has its own
# database file; on PostgreSQL every worker has its own database, <LMS_TEST_DATABASE_URL's name>_gw<N>.
TEST_WORKERS ?= auto
test: debs $(STAMP) translations lint $(AXE_JS)
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

test-pg: $(STAMP) translations $(AXE_JS)
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

bench-debs:
	@$(MAKE) --no-print-directory debs DEB_PACKAGES="$(BENCH_DEB_PACKAGES)"

# Every scenario on 1,000, 20,000 and 200,000 officers (seeded once, cached in bench/out/): see bench/README.md.
bench: install bench-debs
	$(BIN)/python -m bench.run

# The same on 1,000 and 20,000 officers with short page rounds (a few minutes).
bench-quick: install bench-debs
	$(BIN)/python -m bench.run --quick

# Third-party scanners (wapiti, sqlmap, pip-audit) against the demo on 127.0.0.1:$(SCAN_PORT), in their own
# virtualenv pinned by tools/scan-constraints.txt so they never touch the app's packages. Reports: instance/scan/.
SCAN_PORT ?= 5510
$(SCAN_VENV)/.installed: tools/scan-constraints.txt
	@test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install -q -c tools/scan-constraints.txt wapiti3 sqlmap pip-audit
	@touch $@

scan: install content $(SCAN_VENV)/.installed
	SCAN_PORT=$(SCAN_PORT) $(BIN)/python tools/scan.py $(SCAN_ARGS)

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
