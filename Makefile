# Shipfloor: `make demo` and `make test` set everything up on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test check lint format venv clean

# Reinstall whenever the project's dependencies change.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

venv: $(INSTALLED)

## Seed a demo site into ./shipfloor.db if it is empty, then start the station UI.
## The demo's station: PICK-01, PACK-01 or SUP-01 (make demo STATION=PACK-01).
STATION ?= PICK-01
demo: $(INSTALLED)
	$(BIN)/shipfloor demo --station $(STATION)

## The whole test suite (PostgreSQL tests run when SHIPFLOOR_TEST_POSTGRES_URL is set).
test: $(INSTALLED)
	$(BIN)/pytest $(PYTEST_ARGS)

## Lint, format check, strict types, layer contracts, and migrations in step with the models.
check: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  SHIPFLOOR_DATABASE_URL="sqlite:///$$tmp/check.db" $(BIN)/alembic upgrade head && \
	  SHIPFLOOR_DATABASE_URL="sqlite:///$$tmp/check.db" $(BIN)/alembic check
	$(BIN)/mkdocs build --strict --quiet --site-dir .site

## The docs site into .site/ (--strict: a broken link or a missing snapshot fails it).
.PHONY: docs
docs: $(INSTALLED)
	$(BIN)/mkdocs build --strict --site-dir .site

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache
