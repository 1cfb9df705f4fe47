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

.PHONY: serve test schemathesis venv clean

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

## schemathesis: Schemathesis' own CLI, all phases and checks, against a mock already serving
schemathesis: $(STAMP)
	$(BIN)/st run openapi/openapi.yaml --url http://$(HOST):$(PORT) -H 'Authorization: Bearer $(TOKEN)'

clean:
	rm -rf $(VENV) data
