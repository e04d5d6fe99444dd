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

# This checkout's own settings: development mode and a secret key of its own, read by
# registry_site/settings.py, so every manage.py command works here. Never committed.
.env:
	@umask 077 && printf '# Written by make run for this checkout only; never commit it.\nDEBUG=true\nSECRET_KEY=%s\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "Wrote .env (DEBUG=true and a new SECRET_KEY) for this checkout."

migrate: install .env
	$(PY) manage.py migrate --no-input -v 0

demo: migrate
	@command -v bwrap >/dev/null || echo "Note: bubblewrap is not installed (apt-get install bubblewrap): the demo's evaluations will fail with sandbox_unavailable."
	$(PY) manage.py seed_demo

run: demo
	@PORT=$(PORT) bash bin/run-dev.sh

# Two workers on two cores (pytest-xdist); the demo's tests share one (tests/reviews/demo).
PYTEST_ARGS ?= -q -n 2 --dist loadgroup

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var/ test-artifacts/
