# Two commands do all the set-up: `make run` and `make test`.
# `make run` installs the run-time packages only (requirements.lock); `make test` adds the test,
# lint, type-checking and training tools (requirements-dev.lock) to the same .venv.
# Each re-installs when pyproject.toml or a lock file is newer than the venv's stamp.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock

.PHONY: run test lint typecheck check bench graph train eval lock clean

# Run time: the exact versions of requirements.lock, then the project itself without resolving again.
$(VENV)/.run-installed: pyproject.toml $(RUN_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(RUN_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Everything: run time plus the `test` and `train` extras, at the versions of requirements-dev.lock.
$(VENV)/.installed: $(VENV)/.run-installed $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet -r $(RUN_LOCK) -r $(DEV_LOCK)
	touch $@

# Resolve pyproject.toml again in a throw-away venv: the run-time packages first, then the extras
# constrained to them, so both locks agree on every shared package.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install --quiet .
	{ echo "# Run-time packages at the exact versions 'make run' installs, from a fresh venv."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  .lockvenv/bin/python -m pip freeze --exclude clea-bot; } > $(RUN_LOCK)
	.lockvenv/bin/python -m pip install --quiet -c $(RUN_LOCK) '.[test,train]'
	{ echo "# Test, lint, type-checking and training tools 'make test' adds to $(RUN_LOCK)."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  .lockvenv/bin/python -m pip freeze --exclude clea-bot | grep -vxF -f $(RUN_LOCK); } > $(DEV_LOCK)
	rm -rf .lockvenv

run: $(VENV)/.run-installed
	$(BIN)/clea-bot run

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto --dist worksteal

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

check: $(VENV)/.run-installed
	$(BIN)/clea-bot check

train: $(VENV)/.installed
	$(BIN)/python -m bench.train

eval: $(VENV)/.installed
	$(BIN)/python -m bench.faq_eval

graph: $(VENV)/.run-installed
	$(BIN)/clea-bot graph -o docs/conversation.md

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
