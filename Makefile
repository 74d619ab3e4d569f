# Two commands run BizOSaaS from a fresh clone: `make run` and `make test`.
# Both create the virtual environment in .venv when needed. `make run` installs only the runtime
# lock (requirements.lock); `make test` adds the development lock (requirements-dev.lock).
# Each set has its own stamp, so either command installs only what is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install -qq --disable-pip-version-check
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev

.PHONY: run test lint lock bench clean

$(RUNTIME_STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the runtime dependencies (requirements.lock) into $(VENV) ..."
	@$(PIP) --require-hashes -r requirements.lock
	@$(PIP) --no-deps -e .
	@touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) requirements-dev.lock
	@echo "Installing the development tools (requirements-dev.lock) into $(VENV) ..."
	@$(PIP) --require-hashes -r requirements-dev.lock
	@touch $@

run: $(RUNTIME_STAMP)  ## start the whole platform with demo data
	@$(BIN)/bizosaas up

test: $(DEV_STAMP)  ## lint, type-check and run every test
	@bash scripts/test.sh

lint: $(DEV_STAMP)
	@$(BIN)/ruff check src tests bench migrations && $(BIN)/ruff format --check src tests bench migrations

lock:  ## re-resolve both pinned locks from pyproject.toml (hashes included)
	@bash scripts/lock.sh

bench: $(DEV_STAMP)
	@$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
