# make run   : virtual environment, install, migrate, demo data, web + worker + beat
# make test  : ruff, then the whole test suite (SQLite unless DATABASE_URL/REDIS_URL are set)
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
PORT ?= 8000
export PORT
export WEB_PORT := $(PORT)

.PHONY: install run test lint format migrate bench clean

$(BIN)/activate:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 12), "Python 3.12 is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --no-input

run: export DEBUG ?= 1
run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo "Web: http://127.0.0.1:$(PORT)/  logins: admin, manager, clerk, other (password: demo)  Ctrl-C stops all"
	@echo "Database: $${DATABASE_URL:-SQLite db.sqlite3}  Broker: $${REDIS_URL:-filesystem (.local/broker)}"
	exec $(BIN)/honcho start --no-colour -f Procfile

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/edi_reader.py
	@if [ -n "$$DATABASE_URL" ]; then \
		$(BIN)/python bench/claim_generation.py; \
	else \
		echo "bench/claim_generation.py skipped: it needs PostgreSQL in a database of its own," \
			"e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/billing_bench make bench"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .local db.sqlite3 db.sqlite3-wal db.sqlite3-shm
