# hmsportal: `make run` serves the demo, `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_WORKERS ?= 2
# The port `make run` serves on: `make run PORT=8001` when 8000 is taken.
PORT ?= 8000
# The embedded default: no database, broker or cache variables at all.
EMBEDDED := env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND

.PHONY: run test lint bench venv system-packages messages screenshots clean

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/system-packages.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "hmsportal needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	@scripts/ensure-system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e . --group dev
	@touch $@

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
	$(PY) bench/run.py

messages: $(STAMP)
	$(PY) manage.py makemessages -l nb --no-obsolete --ignore='.venv/*' --ignore='var/*'
	$(PY) manage.py compilemessages -l nb --ignore='.venv/*'

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
