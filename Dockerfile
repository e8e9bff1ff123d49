# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ATTEST_DATA_DIR=/data

RUN groupadd --system attest && useradd --system --gid attest --home /app attest
WORKDIR /app

COPY pyproject.toml README.md ./
COPY compliance ./compliance
COPY controls ./controls
RUN pip install --upgrade pip && pip install .

COPY manage.py gunicorn.conf.py ./
COPY templates ./templates
COPY static ./static
# Static files are collected into the image and served by whitenoise under gunicorn.
RUN SECRET_KEY=collectstatic-only STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput \
    && mkdir -p /data && chown attest:attest /data

ENV STATIC_ROOT=/app/staticfiles
USER attest
EXPOSE 8000
# Bind address, workers, timeouts and the dropped Server header: gunicorn.conf.py.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "compliance.wsgi:application"]
