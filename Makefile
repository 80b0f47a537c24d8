# Two commands for a newcomer:  `make run`  (set up, ingest seeds/, serve on 127.0.0.1:8000)
#                               `make test` (set up, lint, type-check, tests, eval gate)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, the CPU build from local disk; otherwise pip would fetch a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/qa-service ingest seeds
	$(BIN)/qa-service serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check qa_service evals tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m benchmarks.core

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
