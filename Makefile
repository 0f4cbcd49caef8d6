# Two commands do all the set-up: `make run` and `make test`.
# Each creates .venv when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint check bench graph train eval clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,train]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/clea-bot run

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check .

check: $(VENV)/.installed
	$(BIN)/clea-bot check

train: $(VENV)/.installed
	$(BIN)/clea-bot train

eval: $(VENV)/.installed
	$(BIN)/clea-bot eval

graph: $(VENV)/.installed
	$(BIN)/clea-bot graph -o docs/conversation.mmd

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
