#!/usr/bin/env bash
# Installs the system packages the tests use when they are missing (Debian, as root): promtool
# (prometheus) for the metrics lint, redis-server for storage tests, chromium for the dashboard test.
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then echo "missing ${need[*]} and not root: install them first" >&2; exit 1; fi
  echo "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
