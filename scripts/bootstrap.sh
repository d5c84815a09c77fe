#!/usr/bin/env bash
# Makes sure uv is available and the virtualenv matches uv.lock (all groups for tests, runtime only otherwise).
#   scripts/bootstrap.sh [dev|prod]
set -euo pipefail
export UV_PYTHON_DOWNLOADS=never
if ! command -v uv >/dev/null 2>&1; then
  if [ ! -x .tools/bin/uv ]; then
    echo "Installing uv into .tools/ …"
    python3 -m venv .tools
    .tools/bin/pip install --quiet --disable-pip-version-check uv 2>&1 | grep -v "is ignored" || true
  fi
  export PATH="$PWD/.tools/bin:$PATH"
fi
if [ "${1:-dev}" = "prod" ]; then
  uv sync --frozen --no-dev --quiet
else
  uv sync --frozen --quiet
fi
# Bytecode, written once: where PYTHONDONTWRITEBYTECODE is set (as on these machines) every interpreter start —
# each manage.py command, Celery worker and test subprocess — otherwise compiles Django, Celery, openpyxl … from
# source again (~2 s of CPU per start). compileall skips files whose .pyc is current, so a rerun costs stats only;
# the site-packages pass runs again only when uv.lock changed.
stamp=.venv/.bytecode-compiled
if [ ! -f "$stamp" ] || [ uv.lock -nt "$stamp" ]; then
  site="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  .venv/bin/python -m compileall -q -j 0 "$site" >/dev/null 2>&1 || true
  touch "$stamp"
fi
.venv/bin/python -m compileall -q -j 0 config core enterprises disclosure inspections repair credit >/dev/null 2>&1 || true
