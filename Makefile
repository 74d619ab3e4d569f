# Two commands run BizOSaaS from a fresh clone: `make run` and `make test`.
# Both create the virtual environment in .venv from the pinned lock when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint lock bench clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install -qq --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install -qq --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)  ## start the whole platform with demo data
	@$(BIN)/bizosaas up

test: $(STAMP)  ## lint, type-check and run every test
	@bash scripts/test.sh

lint: $(STAMP)
	@$(BIN)/ruff check src tests bench migrations && $(BIN)/ruff format --check src tests bench migrations

lock:  ## re-resolve the pinned lock from pyproject.toml
	@bash scripts/lock.sh

bench: $(STAMP)
	@$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
