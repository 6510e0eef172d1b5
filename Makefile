# zoomsync developer commands. Development defaults (DEBUG=1, SQLite, in-process
# Celery) apply unless the environment says otherwise.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DEBUG ?= 1
# Two or more cores: the suite runs in parallel (pytest-xdist).
PYTEST_ARGS ?= -n auto

.PHONY: install test demo serve worker beat lint typecheck clean

$(VENV)/.installed: pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

demo: install
	$(PY) -m zoomsync.demo

serve: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runserver 127.0.0.1:8000

worker: install
	$(VENV)/bin/celery -A zoomsync worker -Q sync,realtime,default -l info

beat: install
	$(VENV)/bin/celery -A zoomsync beat -l info

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .mypy_cache .ruff_cache
