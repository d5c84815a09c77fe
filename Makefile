# The two commands of README.md: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
PYTEST_ARGS ?=

.PHONY: help run test test-fast bench lint format messages install

help:
	@echo "make run    - install, migrate, load the demo city and serve the portal (SQLite + local broker by default)"
	@echo "make test   - install, start throwaway PostgreSQL + Redis, run the whole suite"
	@echo "make bench  - benchmarks at 10^6 entities on throwaway PostgreSQL, figures to bench/results.json"
	@echo "make lint   - ruff, Django checks, missing migrations"

install:
	@scripts/bootstrap.sh dev

run:
	@scripts/run.sh

test:
	@scripts/install-system-deps.sh test
	@scripts/bootstrap.sh dev
	@PORTAL_TESTING=1 scripts/with-services.sh .venv/bin/python -m pytest $(PYTEST_ARGS)

bench:
	@scripts/install-system-deps.sh test
	@scripts/bootstrap.sh dev
	@PORTAL_TESTING=1 scripts/with-services.sh .venv/bin/python -m bench $(BENCH_ARGS)

lint:
	@scripts/bootstrap.sh dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	PORTAL_TESTING=1 .venv/bin/python manage.py check
	PORTAL_TESTING=1 .venv/bin/python manage.py makemigrations --check --dry-run

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

messages:
	PORTAL_TESTING=1 .venv/bin/python manage.py makemessages -l zh_Hans --no-obsolete -i ".venv/*" -i ".tools/*" -i "var/*"
	PORTAL_TESTING=1 .venv/bin/python manage.py compilemessages -l zh_Hans -i ".venv" -i ".tools" -i "var"
