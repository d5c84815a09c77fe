#!/usr/bin/env bash
# Installs the Debian packages the portal needs when they are missing.
#   scripts/install-system-deps.sh run   - what `make run` needs (PDF fonts and shaping)
#   scripts/install-system-deps.sh test  - plus PostgreSQL 15, Redis, Chromium, poppler for the test suite
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
set -euo pipefail
profile="${1:-test}"

packages=(fonts-wqy-microhei libharfbuzz-subset0)
if [ "$profile" = "test" ]; then
  packages+=(redis-server chromium poppler-utils)
  if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
    packages+=(postgresql-15 postgresql-contrib)
  fi
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Run as root:  sudo sh -c '$cmd'" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
