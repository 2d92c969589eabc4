#!/usr/bin/env bash
# Debian's Chromium for the map tests (they skip without it).
set -euo pipefail
command -v chromium >/dev/null && exit 0
[ "$(id -u)" = 0 ] || { echo "not root: cannot apt-get install chromium"; exit 1; }
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
