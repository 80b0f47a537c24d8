# Two commands for a newcomer:  `make run`  (set up, ingest seeds/, serve on 127.0.0.1:8000)
#                               `make test` (set up, lint, type-check, tests, eval gate)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF

.PHONY: setup run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, the CPU build from local disk; otherwise pip would fetch a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	# llama.cpp built portable (AVX2, no AVX-512/AMX): the -march=native build of 0.3.36 segfaults on
	# prompts longer than one token on this machine's CPUs. --no-cache-dir keeps a cached native wheel out.
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet --no-cache-dir llama-cpp-python==0.3.36
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
