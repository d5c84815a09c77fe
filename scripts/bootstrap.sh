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
