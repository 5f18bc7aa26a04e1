#!/usr/bin/env bash
# Runs a Windows program under Wine, headless, in a private prefix: CTest's
# CMAKE_CROSSCOMPILING_EMULATOR for the windows preset, and the windows phase of scripts/test.sh.
# WINEPREFIX defaults to build/windows/wineprefix (created on first use, ~10 s); no display is
# needed (DISPLAY is cleared, so Wine never opens a window), WINEDEBUG=-all keeps Wine's own
# diagnostics out of the test output. The program's exit code is returned unchanged.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
export WINEPREFIX="${WINEPREFIX:-$here/build/windows/wineprefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
unset DISPLAY WAYLAND_DISPLAY
wine=wine64
command -v wine64 >/dev/null 2>&1 || wine=wine
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$WINEPREFIX"
  # One initialisation at a time: parallel CTest jobs would otherwise race to create the prefix.
  exec 9>"$WINEPREFIX.lock"
  flock 9
  if [ ! -f "$WINEPREFIX/system.reg" ]; then "$wine" wineboot --init >/dev/null 2>&1 || true; fi
  flock -u 9
fi
exec "$wine" "$@"
