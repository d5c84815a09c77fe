# Production image for web, worker and beat (see docker-compose.yml). Python 3.11 on Debian 12, like the servers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH="/opt/venv/bin:$PATH" PORTAL_VAR_DIR=/var/lib/portal

# WeasyPrint needs pango; Chinese glyphs need a CJK font; harfbuzz-subset keeps PDF rendering fast.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      fonts-wqy-microhei gettext curl \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv \
 && useradd --system --create-home --home-dir /var/lib/portal portal

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0 \
 && chown -R portal /var/lib/portal
USER portal
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
