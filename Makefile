# QED: `make serve` (set up, build and serve the site) and `make test` (the whole gate).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Where torch comes from. This machine's pip finds a local CPU build; elsewhere use
# TORCH_INDEX=https://download.pytorch.org/whl/cpu (plain PyPI serves the multi-GB CUDA build).
TORCH_INDEX ?=
# Seconds before a hanging proof is stopped: on import and per claim (pytest), per cell (nbval, site build).
export QED_TIMEOUT ?= 120
# Proofs executed at once by nbval and by the site build (each in its own kernel); default: every core.
export QED_JOBS ?= $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
# One torch thread in every proof (pytest, nbval kernels, site kernels): the tensors are tiny, and a
# second thread on a busy two-core machine made the same proofs up to 20 times slower.
export OMP_NUM_THREADS ?= 1
export NO_MKDOCS_2_WARNING := 1
export PYTHONHASHSEED := 0

.PHONY: help install test claims unit notebooks site browser serve bench clean

help:
	@echo "make serve   set up .venv (first run), build the site and serve it on http://127.0.0.1:8000"
	@echo "make test    the whole gate: claims, project tests, notebooks (nbval), strict site build, browser tests"
	@echo "make bench   time the qed CLI: first quiz card, and stats over 10,000 reviews"
	@echo "make clean   remove build outputs and caches (keeps .venv)"

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

test: install
	$(MAKE) --no-print-directory claims unit notebooks site browser

claims: install
	$(BIN)/pytest answers/ --timeout=$(QED_TIMEOUT)

unit: install
	$(BIN)/pytest tests/ --ignore=tests/browser --timeout=600

notebooks: install
	$(BIN)/python -m qed.notebooks build/nb
	$(BIN)/pytest -n $(QED_JOBS) --dist loadfile --nbval-lax --nbval-cell-timeout=$(QED_TIMEOUT) --timeout=$(QED_TIMEOUT) build/nb

site: install
	$(BIN)/mkdocs build --strict

# The built site/ in Chromium (Debian's package); skipped, with the reason, where none is installed.
browser: install
	$(BIN)/pytest tests/browser -rs --timeout=300

serve: install
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

bench: install
	$(BIN)/python -m qed.bench

clean:
	rm -rf site build .cache
