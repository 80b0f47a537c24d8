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
	-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF

EVAL_DATA_DIR ?= .data/eval
# The eval indexes store no sentence vectors: ranking embeds the few sentences a question needs instead. The
# answers are the same (701 of 702 eval answers identical, every figure of every test split equal; the vectors
# differ by float rounding only), and indexing python-docs' 85k sentences was about 7 of CI's minutes.
EVAL_ENV := QA_DATA_DIR=$(EVAL_DATA_DIR) QA_INGEST__SENTENCE_VECTORS=false
# Eval corpora, read in place from Debian packages (evals/corpora): python3-doc (HTML), r-doc-pdf (PDF),
# gettext-doc (texinfo HTML), nodejs-doc (Markdown), debian-policy (the FHS as plain text), and the man pages of
# less, xz-utils, wget, passwd and login (gzipped roff, read through mandoc).
CORPUS_PACKAGES := python3-doc:/usr/share/doc/python3-doc/html r-doc-pdf:/usr/share/R/doc/manual/R-intro.pdf \
	gettext-doc:/usr/share/doc/gettext/gettext_1.html nodejs-doc:/usr/share/doc/nodejs/api/path.md.gz \
	debian-policy:/usr/share/doc/debian-policy/fhs/fhs-3.0.txt.gz less:/usr/share/man/man1/less.1.gz \
	xz-utils:/usr/share/man/man1/xz.1.gz wget:/usr/share/man/man1/wget.1.gz passwd:/usr/share/man/man8/useradd.8.gz \
	login:/usr/share/man/man5/login.defs.5.gz

# The reader's training corpus (evals/training/documents.py, which a test checks this list against): Debian
# packages read in place, none that an eval corpus or an independent check uses. groff renders man pages.
TRAINING_PACKAGES := groff-base tar grep findutils git-man apt gzip e2fsprogs make zstd sed fd-find zsh-doc \
	python-click-doc python-flask-doc debian-faq python-jinja2-doc apt-doc golang-github-gorilla-mux-dev \
	python-attr-doc libjpeg62-turbo-dev golang-github-sirupsen-logrus-dev texlive-latex-base-doc asymptote-doc \
	git-doc libpng16-16 doc-debian git man-db debian-history

.PHONY: setup run test lint unit eval train learning-curve train-deps system-deps bench bench-load bench-scale clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, the CPU build from local disk; otherwise pip would fetch a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	# llama.cpp built portable (AVX2, no AVX-512/AMX): the -march=native build of 0.3.36 segfaults on
	# prompts longer than one token on this machine's CPUs. --no-cache-dir keeps a cached native wheel out.
	# LLAVA_BUILD=OFF: no multimodal (mtmd) library, which nothing here loads; the build takes 206 s, not 297 s.
	$(BIN)/python -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '0.3.36')" 2>/dev/null || \
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

test: lint unit eval

unit: setup system-deps
	$(BIN)/pytest

# The eval gate: every suite of evals/thresholds.toml in the default mode, with the dense-only baseline where
# a gate is a ratio against it (python-docs). `qa-service eval` alone runs both baselines on every suite.
eval: setup system-deps
	$(EVAL_ENV) $(BIN)/qa-service eval --baseline gated --out eval-out

# The reader, the claim judge, then the answerability model (about 80 minutes on 2 cores; the reader's fit 25
# of them, the judge's 36):
# 1. the training tables (evals/training/tables.py): every training question's candidates in the cheap
#    scorer's order through the real pipeline, each training document indexed once into the eval data directory;
# 2. the reader fine-tuned from the packaged MiniLM on them (evals/training/reader_train.py), written to
#    qa_service/answering/data/reader/ with its configuration and validation figures;
# 3. the claim judge fine-tuned from the packaged MiniLM on the training claim pairs (evals/training/judge_train.py),
#    its threshold chosen on the validation documents' pairs, written to qa_service/answering/data/judge/;
# 4. the answerability model, its features read through the pipeline with that reader over the eval indexes,
#    fitted on the dev splits only (evals/train.py -> qa_service/answering/data/answerability.json and
#    evals/training/answerability.jsonl; `qa-service eval train --no-featurize` refits the committed features).
train: setup system-deps
	$(EVAL_ENV) $(BIN)/qa-service eval training-tables
	$(EVAL_ENV) $(BIN)/qa-service eval train-reader
	$(EVAL_ENV) $(BIN)/qa-service eval train-judge
	$(EVAL_ENV) $(BIN)/qa-service eval train

# The reader fine-tuned in one pass over the training tables, measured at 250/500/1k/2k/all questions on the
# validation documents and the eval dev splits (evals/training/learning_curve.jsonl; about 35 min on 2 cores).
learning-curve: setup
	$(EVAL_ENV) $(BIN)/qa-service eval reader-curve

# System packages the tests need: the eval corpora above, mandoc (man pages are read through it), chromium
# (the page tests drive it headless; test tools cannot download their own browsers here), docker-compose
# (tests/test_compose.py runs `docker-compose config`, which needs no Docker engine), and the training
# corpus (its labels are checked).
system-deps: train-deps
	@missing=""; for entry in $(CORPUS_PACKAGES); do \
	  test -e "$${entry#*:}" || missing="$$missing $${entry%%:*}"; done; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v mandoc >/dev/null || missing="$$missing mandoc"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (sudo apt-get install$$missing)"; exit 1; fi; fi

# The training corpus's packages, without their recommendations (texlive's would add a TeX installation).
train-deps:
	@missing=""; for p in $(TRAINING_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (sudo apt-get install --no-install-recommends$$missing)"; \
	    exit 1; fi; fi

bench: setup
	$(BIN)/python -m benchmarks.core

# 16 clients for 60 s while documents are uploaded and deleted, after 1-client and no-write baselines,
# against a fresh server on a loopback port (about 4 minutes).
bench-load: setup
	rm -rf .data/bench-load && mkdir -p .data/bench-load
	QA_DATA_DIR=.data/bench-load QA_LLM__BACKEND=none QA_LIMITS__REQUESTS_PER_MINUTE=0 QA_LOG_FORMAT=text \
	  $(BIN)/qa-service serve --port 8765 > .data/bench-load/server.log 2>&1 & echo $$! > .data/bench-load/pid; \
	  until curl -sf http://127.0.0.1:8765/readyz >/dev/null; do sleep 0.5; done; \
	  $(BIN)/python -m benchmarks.load --url http://127.0.0.1:8765 --baselines; status=$$?; \
	  kill $$(cat .data/bench-load/pid); exit $$status

# Retrieval at 1k/10k/100k chunks (embedded vs server Chroma vs numpy), ingestion, /ask with 1/2/4 workers
# (~15 min on 2 CPUs); prints the Markdown section for BENCHMARKS.md. One math thread per process, as in
# docker-compose.yml: a 2-thread torch on 2 shared CPUs embeds a question 5-15x slower (BENCHMARKS.md).
bench-scale: setup system-deps
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m benchmarks.scale

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
