# Two commands do all the set-up: `make run` and `make test`.
# Each creates .venv when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint check bench graph train eval lock clean

# The exact versions of requirements.lock, then the project itself without resolving again.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e '.[test,train]'
	touch $@

# Resolve pyproject.toml again in a throw-away venv and write the exact versions.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install --quiet '.[test,train]'
	{ echo "# Exact versions 'make' installs (runtime, test and train extras), from a fresh venv."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  .lockvenv/bin/python -m pip freeze --exclude clea-bot; } > requirements.lock
	rm -rf .lockvenv

run: $(VENV)/.installed
	$(BIN)/clea-bot run

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n auto --dist worksteal

lint: $(VENV)/.installed
	$(BIN)/ruff check .

check: $(VENV)/.installed
	$(BIN)/clea-bot check

train: $(VENV)/.installed
	$(BIN)/python -m bench.train

eval: $(VENV)/.installed
	$(BIN)/python -m bench.faq_eval

graph: $(VENV)/.installed
	$(BIN)/clea-bot graph -o docs/conversation.mmd

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
