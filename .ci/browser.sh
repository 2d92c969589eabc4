#!/usr/bin/env bash
# Debian's Chromium for the map tests (they skip without it), and a CJK font so the
# screenshots show the Chinese labels as text rather than empty boxes.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "not root: cannot apt-get install ${need[*]}"; exit 1; }
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
