# Two commands for a newcomer: `make demo` and `make test`. Each sets up what it needs.
# `make bench` runs the benchmarks (figures in benchmarks/README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The real llama.cpp test tier runs in its own environment: llama-cpp-python[server]
# pins its own web stack, which must not leak into ours.
LLAMA_VENV := .venv-llama
LLAMA_VERSION := 0.3.36
# The LiteLLM gateway tier: a real proxy (litellm[proxy]) in its own environment too. Pinned:
# litellm ≥ 1.108.8 needs a `litellm-proxy` distribution pip cannot find, and backtracks
# through gigabytes of wheels; prisma is what makes an auth failure a 401, not a plain 500.
LITELLM_VENV := .venv-litellm
LITELLM_VERSION := 1.108.7
PRISMA_VERSION := 0.15.0
WHEELS := $(HOME)/.cache/nbchat/wheels
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
JS_SOURCES := $(shell find js -type f 2>/dev/null) package.json tsconfig.json
# The prebuilt JupyterLab 4 / Notebook 7 extension (Insert below, Interrupt, the transcript's
# renderer), and where the venv's JupyterLab looks for it.
LABEXT := src/nbchat/labextension
LABEXT_SOURCES := $(shell find labext -type f 2>/dev/null) package.json
LABEXT_LINK := $(VENV)/share/jupyter/labextensions/jupyter-nbchat

.PHONY: demo test bench setup lint check-js check-py

demo: $(BIN)/.installed src/nbchat/static/widget.js $(LABEXT)/package.json
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 $(ALLOW_ROOT) notebooks/quickstart.ipynb

test: setup lint
	npm run --silent typecheck
	npm run --silent test
	$(BIN)/python -m pytest -m "not e2e"
	@# Browser tests in their own process: Playwright's sync API keeps an event loop
	@# running in the main thread, which pytest-asyncio's tests cannot share.
	$(BIN)/python -m pytest -m e2e

bench: $(BIN)/.installed src/nbchat/static/widget.js /usr/bin/chromium
	$(BIN)/python -m benchmarks

setup: $(BIN)/.installed src/nbchat/static/widget.js $(LABEXT)/package.json /usr/bin/chromium \
	$(LLAMA_VENV)/.installed $(LITELLM_VENV)/.installed

lint: $(BIN)/.installed node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	npm run --silent lint

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

src/nbchat/static/widget.js: node_modules/.installed $(JS_SOURCES)
	npm run --silent build:widget

$(LABEXT)/package.json: node_modules/.installed $(LABEXT_SOURCES)
	npm run --silent build:labext

# The JS is built by the rules above; the hatch build hook is for wheels and sdists.
# pip copies the extension into the venv once, at install time (and nothing if it is not
# built yet): a symlink, made right after, keeps JupyterLab on the current build instead.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	SKIP_JUPYTER_BUILDER=1 $(BIN)/python -m pip install -q -e ".[dev]"
	mkdir -p $(dir $(LABEXT_LINK))
	rm -rf $(LABEXT_LINK)
	ln -s $(CURDIR)/$(LABEXT) $(LABEXT_LINK)
	touch $@

/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk

# llama-cpp-python compiles llama.cpp (4–5 minutes); the wheel is cached between runs.
$(LLAMA_VENV)/.installed:
	test -x $(LLAMA_VENV)/bin/python || $(PYTHON) -m venv $(LLAMA_VENV)
	ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BLAS=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
	  $(LLAMA_VENV)/bin/python -m pip wheel -q --no-deps "llama-cpp-python==$(LLAMA_VERSION)" -w $(WHEELS)
	$(LLAMA_VENV)/bin/python -m pip install -q --find-links $(WHEELS) "llama-cpp-python[server]==$(LLAMA_VERSION)"
	touch $@

# About 760 MB, all wheels (nothing compiles): 45–110 s here, pip's cache makes a rerun quick.
$(LITELLM_VENV)/.installed:
	test -x $(LITELLM_VENV)/bin/python || $(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/python -m pip install -q \
	  "litellm[proxy]==$(LITELLM_VERSION)" "prisma==$(PRISMA_VERSION)"
	touch $@
