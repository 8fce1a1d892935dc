# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test demo bench soak lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ainews run

# Lint first: pyflakes finds unused imports, undefined names and redefinitions in seconds.
test: lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/python -m pyflakes bot feeds storage bench tests

demo: $(STAMP)
	$(BIN)/ainews demo

bench: $(STAMP)
	$(BIN)/python -m bench

soak: $(STAMP)
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
