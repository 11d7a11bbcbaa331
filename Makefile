# Catalog Health: the two commands are `make demo` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_SIZE ?= small

.PHONY: demo test lint format bench drills install clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## demo: install, migrate, load demo data, start web + Celery worker + beat (embedded default)
demo: $(STAMP)
	@scripts/demo.sh

## test: the whole suite against the machine's PostgreSQL and Redis
test: $(STAMP)
	@$(BIN)/python scripts/check_services.py
	$(BIN)/pytest $(PYTEST_ARGS)

## drills: reliability drills with real processes (tests/drills, marker `drill`, not in `make test`):
## SIGKILLed worker, Redis down, PostgreSQL restart, 20 concurrent refreshes, feed fuzzing
drills: $(STAMP)
	@$(BIN)/python scripts/check_services.py
	$(BIN)/pytest -m drill tests/drills $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: every benchmark at BENCH_SIZE (small | medium | full); results go to bench/RESULTS.md by hand
bench: $(STAMP)
	@$(BIN)/python scripts/check_services.py
	$(BIN)/python bench/run_all.py --size $(BENCH_SIZE)

clean-venv:
	rm -rf $(VENV)
