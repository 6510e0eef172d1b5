# One image for web (gunicorn), worker and beat (celery). No secrets are baked in:
# SECRET_KEY, FIELD_ENCRYPTION_KEYS and the app credentials come from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=zoomsync.settings

WORKDIR /app

# Dependencies first (pinned by constraints.txt), so a source change reuses this layer.
COPY pyproject.toml constraints.txt README.md ./
COPY zoomsync/__init__.py zoomsync/__init__.py
RUN pip install -c constraints.txt .

COPY . .
# Re-install the package itself without touching the already-installed dependencies.
RUN pip install --no-deps -c constraints.txt . \
    # Static files are collected at build time; the throwaway secrets below exist only
    # for this step (settings refuse to load without secrets when DEBUG is off).
    && DEBUG=0 SECRET_KEY=collectstatic-only FIELD_ENCRYPTION_KEYS=collectstatic-only \
       python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 zoomsync \
    # Prometheus counters of all processes (docker-compose.yml mounts a shared volume here).
    && mkdir -p /var/lib/zoomsync/metrics \
    && chown -R zoomsync:zoomsync /app /var/lib/zoomsync

USER zoomsync

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"

# web by default; docker-compose.yml runs the worker and beat from this same image.
CMD ["gunicorn", "zoomsync.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
