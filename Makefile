# hmsportal: `make run` serves the demo, `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Every package comes from requirements/lock.txt (runtime and dev, pip and setuptools too), each
# checked against its sha256 there; `make lock` writes it from pyproject.toml with uv.
LOCK := requirements/lock.txt
# uv (make lock) and pip-audit (make audit) live in a venv of their own, locked with hashes too.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --quiet --custom-compile-command "make lock"
TEST_WORKERS ?= 2
# The port `make run` serves on: `make run PORT=8001` when 8000 is taken.
PORT ?= 8000
# The embedded default: no database, broker or cache variables at all.
EMBEDDED := env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND

.PHONY: run test lint bench venv system-packages messages screenshots clean lock audit tools

venv: $(STAMP)

$(STAMP): $(LOCK) pyproject.toml scripts/system-packages.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "hmsportal needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	@scripts/ensure-system-packages.sh
	@# --clear: the venv holds what the lock names and nothing left over from an older lock.
	$(PYTHON) -m venv --clear $(VENV)
	@# Hash checking: a file whose sha256 is not in the lock is refused. Wheels only, so no
	@# build step can fetch something unchecked; the project itself then installs without
	@# dependencies or build isolation (its build backend, setuptools, came from the lock).
	$(PY) -m pip install --quiet --require-hashes --only-binary :all: -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) scripts/check-lock.py
	@touch $@

$(TOOLS_STAMP): requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes --only-binary :all: -r requirements/tools.txt
	@touch $@

tools: $(TOOLS_STAMP)

# Rewrites the lock files from pyproject.toml. uv keeps the versions already locked unless
# pyproject.toml rules them out; `make lock UPGRADE=1` takes the newest allowed.
lock: $(TOOLS_STAMP)
	$(TOOLS)/bin/uv pip compile pyproject.toml requirements/build.in --group pyproject.toml:dev \
	  $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) -o $(LOCK)
	@# The image's runtime set (Dockerfile): the same versions, without the dev group.
	$(TOOLS)/bin/uv pip compile pyproject.toml requirements/build.in -c $(LOCK) \
	  $(LOCK_FLAGS) -o requirements/runtime.txt
	$(TOOLS)/bin/uv pip compile requirements/tools.in $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) \
	  -o requirements/tools.txt

# Known vulnerabilities in the locked versions, looked up in PyPI's database. --strict: a
# package that cannot be looked up fails the audit (without it pip-audit skips the package and
# still says "No known vulnerabilities found"). Needs network access to pypi.org (README.md).
audit: $(TOOLS_STAMP)
	$(TOOLS)/bin/pip-audit --strict --disable-pip --require-hashes --progress-spinner off -r $(LOCK)

# The demo's e-mailed links and the QR codes on its cards lead to the port it serves on,
# unless PORTAL_BASE_URL is set.
run: export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
run: $(STAMP)
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_people
	@echo
	@echo "  hmsportal runs at http://127.0.0.1:$(PORT)/"
	@echo "  Log in as a demo person (employer, delegate, cardholder or staff): http://127.0.0.1:$(PORT)/login/dev/"
	@echo "  Check a card: http://127.0.0.1:$(PORT)/status/"
	@echo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	@scripts/ensure-system-packages.sh scripts/system-packages.txt scripts/system-packages-test.txt
	$(PY) -m pytest -n $(TEST_WORKERS)
	@echo "--- the thin slice once more on the embedded default (SQLite, eager Celery)"
	$(EMBEDDED) $(PY) -m pytest -p no:cacheprovider tests/test_slice.py -m "not services"

# The journeys in the browser write their main pages to docs/screenshots/ (the README shows them).
screenshots: $(STAMP)
	@scripts/ensure-system-packages.sh scripts/system-packages.txt scripts/system-packages-test.txt
	SCREENSHOTS=1 $(PY) -m pytest -n $(TEST_WORKERS) -p no:cacheprovider tests/test_journeys.py tests/test_browser.py

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy hmsportal registry cards orders

bench: $(STAMP)
	@scripts/ensure-system-packages.sh scripts/system-packages.txt scripts/system-packages-bench.txt
	$(PY) bench/run.py

# File names without line numbers: every edit above a string would otherwise move its
# reference, and parallel branches would all conflict in the catalogue.
messages: $(STAMP)
	$(PY) manage.py makemessages -l nb --no-obsolete --add-location=file --ignore='.venv/*' --ignore='var/*'
	$(PY) manage.py compilemessages -l nb --ignore='.venv/*'

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
