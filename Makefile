# The README's two commands are `make serve` and `make test`; each (re)creates the virtual
# environment from pyproject.toml first, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
DB     ?= data/mock.json
TOKEN  ?= dev
NODE_BIN   := node_modules/.bin
NODE_STAMP := node_modules/.package-lock.json

.PHONY: serve test check schemathesis venv clean lint bench conformance bench-conformance bench-diff

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## serve: the mock on http://$(HOST):$(PORT), its state in $(DB) (created from the default data)
serve: $(STAMP)
	$(BIN)/python -m mock_server --host $(HOST) --port $(PORT) --db $(DB) --token $(TOKEN)

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## check: the code gate CI runs first: ruff's rules and formatting, mypy --strict, over the
## packages, the tests and the benchmarks (tool versions pinned in pyproject.toml)
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## schemathesis: Schemathesis' own CLI, all phases and checks, against a mock already serving
schemathesis: $(STAMP)
	$(BIN)/st run openapi/openapi.yaml --url http://$(HOST):$(PORT) -H 'Authorization: Bearer $(TOKEN)'

## bench: mock view/create req/s, start-up, RSS and index p50/p99 at 1k/10k/100k sessions, with
## Prism and the reference server measured in the same alternating rounds (about 10 minutes)
bench: $(STAMP)
	$(BIN)/python bench/mock_bench.py

## conformance: the conformance suite (profile full) against a mock already serving on $(HOST):$(PORT)
conformance: $(STAMP)
	$(BIN)/python -m conformance --base-url http://$(HOST):$(PORT) --token $(TOKEN)

## bench-conformance: time and requests of the full and safe conformance runs against a fresh mock
bench-conformance: $(STAMP)
	$(BIN)/python bench/conformance_bench.py

## bench-diff: `diff` on a generated 2 MB union-heavy spec (one change, and itself), with the npm
## openapi-diff on the same documents as the reference point
bench-diff: $(STAMP) $(NODE_STAMP)
	$(BIN)/python bench/diff_bench.py

## lint: the contract through our own rules, Spectral (spectral:oas) and Redocly (recommended);
## warnings fail too (Redocly has no fail-on-warnings flag: recommended-strict is recommended
## with every warning raised to an error)
lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m openapi lint --fail-on warning
	$(NODE_BIN)/spectral lint --ruleset .spectral.yaml --fail-severity=warn openapi/openapi.yaml
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
		$(NODE_BIN)/redocly lint --config redocly.yaml --extends=recommended-strict openapi/openapi.yaml
	$(NODE_BIN)/spectral lint --ruleset .spectral.yaml --fail-severity=warn openapi/mock-control.yaml
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
		$(NODE_BIN)/redocly lint --config redocly.yaml --extends=recommended-strict openapi/mock-control.yaml

# npm writes node_modules/.package-lock.json at every install, so it is older than the lock file
# (or missing) exactly when node_modules is stale.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

clean:
	rm -rf $(VENV) data
