# Everything a fresh machine needs: `make serve` (site on http://127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1
SERVE_ADDR ?= 127.0.0.1:8000

.PHONY: setup generate check serve site test lint bench chromium fashion-mnist experiments clean

# The venv is rebuilt when the dependency files change (requirements.lock pins every package).
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

setup: $(STAMP)

generate: setup
	$(PY) -m tools.generate

check: setup
	$(PY) -m tools.generate --check

# `python -m` puts the checkout on sys.path: mkdocs.yml and the hook use its tools package (not installed).
serve: setup generate
	$(PY) -m mkdocs serve --strict -a $(SERVE_ADDR)

site: setup generate
	$(PY) -m mkdocs build --strict

lint: setup
	$(VENV)/bin/ruff check .

# Browser tests use Debian's Chromium (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }

# The built-in training data (`python -m alexnet train alexnet_mini --recipe fashion_mnist`): Debian's package.
fashion-mnist:
	@test -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz || \
	  { apt-get update -q && apt-get install -y -q dataset-fashion-mnist; }

# pytest's exit status 5 means no test ran: that is a failure here, not a pass.
test: setup chromium fashion-mnist lint check
	$(PY) -m pytest -n 2 --dist loadgroup; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# Train every experiment of spec/experiments/ (all variants, all seeds) and rewrite
# docs/generated/experiments/<name>.json, then regenerate the pages from them. Under 30 minutes on 2 cores.
experiments: setup fashion-mnist
	$(PY) -m alexnet.train.experiments
	$(PY) -m tools.generate

bench: setup
	$(PY) -m tools.bench

clean:
	rm -rf site .pytest_cache .ruff_cache .hypothesis
