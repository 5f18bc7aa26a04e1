#!/usr/bin/env bash
# Installs what is missing, builds, then runs demo_writer and the viewer attached to it.
# Without a display it falls back to printing the log in this terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --no-windows
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)"
segment="${OUROBOROS_SEGMENT:-ouroboros-demo}"
bin=build/dev/bin
"$bin/ouroboros-demo-writer" --quiet --segment "$segment" --rate "${OUROBOROS_RATE:-2000}" &
writer=$!
trap 'kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null || true' EXIT INT TERM
if [ -x "$bin/ouroboros-viewer" ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  "$bin/ouroboros-viewer" --segment "$segment"
else
  echo "no display: showing the log with ouroboros tail (Ctrl-C to stop)"
  "$bin/ouroboros-cli" tail "$segment" --follow
fi
