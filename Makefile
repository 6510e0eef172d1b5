# zoomsync developer commands. Development defaults (DEBUG=1, SQLite, in-process
# Celery) apply unless the environment says otherwise.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DEBUG ?= 1
# Two or more cores: the suite runs in parallel (pytest-xdist).
PYTEST_ARGS ?= -n auto

.PHONY: install test demo dev dev-reset up serve worker beat lint typecheck clean

# The dev stack's own state (database, sandbox world, task folder, admin password).
DEV_DIR ?= $(CURDIR)/.dev
DEV_PORT ?= 8000
SANDBOX_PORT ?= 8899
DEV_ENV = PATH=$(CURDIR)/$(VENV)/bin:$$PATH DEBUG=1 ZOOMSYNC_SANDBOX=1 \
	DATABASE_URL=sqlite:///$(DEV_DIR)/dev.sqlite3 \
	CELERY_BROKER_URL=filesystem:// CELERY_BROKER_FOLDER=$(DEV_DIR)/broker \
	ZOOMSYNC_SYNC_FANOUT=0 ZOOMSYNC_PUBLIC_URL=http://127.0.0.1:$(DEV_PORT) \
	PROMETHEUS_MULTIPROC_DIR=$(DEV_DIR)/prometheus \
	DEV_DIR=$(DEV_DIR) DEV_PORT=$(DEV_PORT) SANDBOX_PORT=$(SANDBOX_PORT) LOG_FORMAT=$${LOG_FORMAT:-plain}
# `make up` reads this env file (as docker compose reads .env); /dev/null: the shell only.
UP_ENV_FILE ?= .env

$(VENV)/.installed: pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The demo has its own database: it never touches the dev stack's or a production one.
demo: install
	DATABASE_URL=sqlite:///$(CURDIR)/demo.sqlite3 $(PY) -m zoomsync.demo

# Sandbox + web app + worker against one persistent database (.dev/); Ctrl-C stops all,
# `make dev` again goes on where it was. `make dev-reset` forgets everything.
dev: install
	mkdir -p $(DEV_DIR) && rm -rf $(DEV_DIR)/prometheus && mkdir $(DEV_DIR)/prometheus
	env $(DEV_ENV) $(VENV)/bin/honcho -f Procfile.dev -e /dev/null start

dev-reset:
	rm -rf $(DEV_DIR)

# Production: web (gunicorn), worker and beat from Procfile, against PostgreSQL and Redis.
# Prometheus counters of all the stack's processes, added up by /metrics (emptied at start).
UP_METRICS_DIR ?= $(CURDIR)/.run/prometheus
UP_ENV = DEBUG=0 PATH=$(CURDIR)/$(VENV)/bin:$$PATH PROMETHEUS_MULTIPROC_DIR=$(UP_METRICS_DIR)
up: install
	env $(UP_ENV) $(PY) -m zoomsync.up_check --env-file $(UP_ENV_FILE)
	rm -rf $(UP_METRICS_DIR) && mkdir -p $(UP_METRICS_DIR)
	env $(UP_ENV) $(VENV)/bin/honcho -f Procfile -e $(UP_ENV_FILE) run python manage.py migrate --noinput
	env $(UP_ENV) $(VENV)/bin/honcho -f Procfile -e $(UP_ENV_FILE) start

# One production process at a time (DEBUG off; same commands as the Procfile).
serve: install
	env DEBUG=0 $(PY) manage.py migrate --noinput
	env DEBUG=0 $(VENV)/bin/gunicorn zoomsync.wsgi:application --bind $${WEB_BIND:-127.0.0.1:8000} --workers $${WEB_CONCURRENCY:-3} --timeout 60 --access-logfile -

worker: install
	env DEBUG=0 $(VENV)/bin/celery -A zoomsync worker -Q sync,realtime,default -l info

beat: install
	env DEBUG=0 $(VENV)/bin/celery -A zoomsync beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

clean:
	rm -rf $(VENV) db.sqlite3 demo.sqlite3 .pytest_cache .mypy_cache .ruff_cache
