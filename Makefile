# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-oldest demo bench soak lint clean

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

# The suite's tests of what each dependency does for the bot, on the oldest releases
# pyproject.toml allows (`make test` gets the newest): a bound older than what the code
# calls fails here. A fresh venv each time (about a minute to build); not run by CI.
OLDEST := .venv-oldest
OLDEST_TESTS := tests/test_packaging.py tests/test_store_transactions.py \
	tests/test_fetcher_errors.py tests/test_guard.py tests/test_urls.py \
	tests/test_lookalike_links.py tests/test_hostile_property.py tests/test_parser.py \
	tests/test_pipeline_offline.py tests/test_llm.py tests/test_discord_adapter.py \
	tests/test_discord_start.py tests/test_slack_socket_mode.py tests/test_slack_start.py \
	tests/test_run_exit.py tests/test_upgrade.py tests/test_demo.py

test-oldest:
	rm -rf $(OLDEST)
	$(PY) -m venv $(OLDEST)
	$(PY) tests/oldest_constraints.py > $(OLDEST)/constraints.txt
	$(OLDEST)/bin/pip install -q -c $(OLDEST)/constraints.txt -e '.[dev]'
	$(OLDEST)/bin/python -m pytest -q -p no:cacheprovider $(OLDEST_TESTS)

lint: $(STAMP)
	$(BIN)/python -m pyflakes bot feeds storage bench tests

demo: $(STAMP)
	$(BIN)/ainews demo

bench: $(STAMP)
	$(BIN)/python -m bench

soak: $(STAMP)
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) $(OLDEST) build *.egg-info .pytest_cache
