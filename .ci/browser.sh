#!/usr/bin/env bash
# Debian's Chromium for the map tests (they skip without it), a CJK font so the
# screenshots and the poster show the Chinese labels as text rather than empty boxes, and
# poppler's pdftoppm, with which the poster tests render the PDF.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
[ ${#need[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "not root: cannot apt-get install ${need[*]}"; exit 1; }
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
