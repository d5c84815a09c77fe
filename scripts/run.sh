#!/usr/bin/env bash
# `make run`: install, migrate, load the demo city once, and serve the portal with a Celery worker and beat.
# With no DATABASE_URL / REDIS_URL it needs no server: SQLite in var/ and kombu's filesystem broker.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-system-deps.sh run || echo "(continuing without the PDF fonts; certificates will lack Chinese glyphs)"
scripts/bootstrap.sh dev

mkdir -p var/broker/out var/broker/processed
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
  [ -s var/secret_key ] || python3 -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
  DJANGO_SECRET_KEY="$(cat var/secret_key)"
  export DJANGO_SECRET_KEY
fi
export DJANGO_SECURE_COOKIES="${DJANGO_SECURE_COOKIES:-0}"   # plain http on localhost
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
PY=.venv/bin/python

$PY manage.py migrate --noinput -v 0
$PY manage.py collectstatic --noinput -v 0
$PY manage.py seed_demo --if-empty --enterprises "${DEMO_ENTERPRISES:-20000}" --password "${DEMO_PASSWORD:-jinzhong2026}"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# One worker with embedded beat: enough for a demo; production runs them separately (docker-compose.yml).
.venv/bin/celery -A config worker -B --pool=solo --loglevel=INFO --logfile=var/celery.log \
  --schedule="var/celerybeat-schedule" &
pids+=($!)
.venv/bin/gunicorn config.wsgi --bind "$HOST:$PORT" --workers 2 --access-logfile - --error-logfile - &
pids+=($!)

for _ in $(seq 100); do
  curl -fs "http://$HOST:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
cat <<INFO

  晋中市市场监督管理局 企业信用监管平台 is running
    public site   http://$HOST:$PORT/
    admin         http://$HOST:$PORT/admin/
    API docs      http://$HOST:$PORT/api/docs/
  demo logins (password: ${DEMO_PASSWORD:-jinzhong2026}):
$($PY manage.py seed_demo --list-users)
  background jobs: Celery worker + beat (log: var/celery.log). Ctrl-C stops everything.

INFO
wait -n
