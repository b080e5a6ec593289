# hmsportal image: the same image runs the web server, the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY scripts/system-packages.txt scripts/system-packages.txt
RUN apt-get update \
 && grep -v '^\s*#' scripts/system-packages.txt | grep -v -e python3-venv \
    | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
# The locked runtime packages, each checked against its sha256 (make lock writes the file);
# wheels only, so nothing unchecked is fetched to build one. The project then installs alone.
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --require-hashes --only-binary :all: -r requirements/runtime.txt
COPY pyproject.toml ./
COPY hmsportal hmsportal
COPY registry registry
COPY cards cards
COPY orders orders
COPY templates templates
COPY static static
COPY locale locale
COPY manage.py ./
RUN pip install --no-deps --no-build-isolation . \
 && DEBUG=0 SECRET_KEY=collectstatic DOCUMENT_ENCRYPTION_KEY=collectstatic python manage.py collectstatic --noinput \
 && useradd --system --uid 1000 --home /app hmsportal \
 && mkdir -p /app/var && chown hmsportal /app/var
USER hmsportal
EXPOSE 8000
CMD ["gunicorn", "hmsportal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
