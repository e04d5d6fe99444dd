# The README's commands. `make run` starts the portal; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
PORT ?= 8000
UV_VERSION := 0.13.9

.PHONY: run test install migrate demo lint format clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Reinstall only when the pinned requirements change.
$(VENV)/.installed: $(PY) requirements.txt requirements-dev.txt
	$(UV) pip install --quiet --python $(PY) -r requirements.txt -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	DEBUG=true $(PY) manage.py migrate --no-input -v 0

demo: migrate
	DEBUG=true $(PY) manage.py seed_demo

run: demo
	@DEBUG=true PORT=$(PORT) bash bin/run-dev.sh

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var/ test-artifacts/
