# The two commands: `make run` (pipeline on the sample data or CSP_LANDING) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
export PYTHONPATH := $(CURDIR)

.PHONY: run test lint venv dev sample manifest clean bench bench-small lock snapshot faults postgres-binaries chromium

run: $(STAMP) manifest $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m orchestration.run $(if $(FULL),--full)

# two pytest-xdist workers, a file per worker at a time, the longest files first
# (tests/conftest.py, tests/durations.py): the 2 cores. The JUnit report refreshes the
# durations: .venv/bin/python -m tests.durations data/test-results.xml
TEST_WORKERS ?= 2
test: $(STAMP) manifest lint postgres-binaries chromium
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder \
		--junitxml=data/test-results.xml

# Debian's PostgreSQL server binaries: the tests start their own server with them
postgres-binaries:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
	{ SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	  postgresql; }

# Debian's headless Chromium for the report's browser tests (PDF pages, screenshot)
chromium:
	@command -v chromium >/dev/null || \
	{ SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	  chromium fonts-dejavu-core; }

# the fault suite alone (kill -9 at every stage, disk full, concurrent writers)
faults: $(STAMP) manifest
	$(BIN)/pytest -m faults

# a consistent copy of the warehouse to query or back up (waits for a running writer)
snapshot: $(STAMP)
	$(BIN)/python -m orchestration.snapshot

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@if [ -f .sqlfluff ]; then $(BIN)/sqlfluff lint dbt_project --processes 2; fi

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' \
		|| { echo "Set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps --quiet -e .
	rm -f $(VENV)/.installed-*
	touch $@

# The dbt manifest is built by this command, never when the Dagster definitions load;
# only when a dbt source file is newer than it (dbt parse costs seconds on every run).
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(wildcard dbt_project.yml profiles.yml packages.yml) \
	$(shell find dbt_project -path dbt_project/target -prune -o -type f -print 2>/dev/null) \
	$(wildcard ingest/reference/*)
manifest: $(MANIFEST)
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	@if [ -f dbt_project.yml ]; then $(BIN)/dbt parse --quiet --project-dir . --profiles-dir . --target-path dbt_project/target && touch $@; fi

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

# Dagster UI on http://127.0.0.1:3000 (lineage, runs, checks, schedules, sensor; DEV_PORT=),
# and the GX Data Docs on http://127.0.0.1:$CSP_DATA_DOCS_PORT (default 3001), stopped with it
DEV_PORT ?= 3000
dev: $(STAMP) manifest $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/python -m orchestration.data_docs & docs=$$!; \
	trap 'kill $$docs 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p $(DEV_PORT)

# where a figure came from: make trace MEASURE=1.3 QUARTER=2016-17-Q4 [SERIES=total]
.PHONY: trace
trace: $(STAMP) manifest
	$(BIN)/python -m orchestration.trace $(MEASURE) $(QUARTER) $(if $(SERIES),--series $(SERIES))

sample: $(STAMP)
	$(BIN)/python -m ingest.sample_data --out $${CSP_LANDING:-data/landing}

# National-scale benchmark, not part of `make test`: make bench [YEARS=10] [KEEP=1]
YEARS ?= 10
bench: $(STAMP) manifest $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m bench --years $(YEARS) $(if $(KEEP),--keep)

# The fixed cost of a run on the sample data (first run, nothing new, nightly skip, one
# new month, as-of moved), each against bare DuckDB: make bench-small [KEEP=1]
bench-small: $(STAMP) manifest
	$(BIN)/python -m bench.small $(if $(KEEP),--keep)

# Regenerate the pinned lock file after changing pyproject.toml
lock: $(STAMP)
	$(BIN)/uv pip compile --python $(BIN)/python pyproject.toml --extra dev -o requirements.lock

clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/warehouse.last_build.json \
		data/serving.duckdb data/parquet dbt_project/target target
