#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test Ouroboros. Idempotent and quick
# when everything is there: it asks dpkg first and calls apt-get only for missing packages.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  build-essential cmake ninja-build pkg-config git
  qt6-base-dev qt6-base-dev-tools libgl-dev qt6-gtk-platformtheme
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libfmt-dev libspdlog-dev libre2-dev
  clang-14 libclang-rt-14-dev clang-format-14
  xvfb xauth imagemagick rsyslog
  python3 python3-pytest python3-venv
  # packaging (scripts/package.sh, scripts/package-check.sh): CPack's DEB generator runs
  # dpkg-shlibdeps, man pages come from help2man, the wheel from Debian's python3-build
  dpkg-dev fakeroot file help2man lintian desktop-file-utils appstream
  python3-build python3-setuptools python3-wheel
  # the Windows cross build and its tests (the windows preset, docs/windows.md): MinGW-w64 GCC 12
  # with POSIX threads, Wine to run the programs, GoogleTest's sources to build it for the target
  googletest
)
# Wine is installed with its recommended packages (the 64-bit loader and the libraries its
# wineboot needs), as tested; the rest above without.
windows_packages=(g++-mingw-w64-x86-64-posix wine wine64)
# scripts/run.sh needs none of them: it passes --no-windows.
if [ "${1:-}" = "--no-windows" ]; then windows_packages=(); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

missing_windows=()
for p in "${windows_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing_windows+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ] || [ "${#missing_windows[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ "${#missing_windows[@]}" -gt 0 ]; then
  echo "deps: installing ${missing_windows[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing_windows[@]}"
fi
if [ "${#missing[@]}" -eq 0 ] && [ "${#missing_windows[@]}" -eq 0 ]; then
  echo "deps: all Debian packages present"
fi

# Go for the Go reader: go/go.mod asks for 1.19, Debian 12's golang-go. A machine may have a
# newer Go in /usr/local/go; the tests run with both, and the Windows build of the Go reader is
# made with Debian's: newer Go runtimes load bcryptprimitives.dll, which Debian's Wine 8 lacks.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi
if ! command -v go >/dev/null 2>&1 ||
  { [ "${1:-}" != "--no-windows" ] && [ ! -x /usr/lib/go-1.19/bin/go ]; }; then
  echo "deps: installing Go from Debian"
  if [ "${#missing[@]}" -eq 0 ] && [ "${#missing_windows[@]}" -eq 0 ]; then $SUDO apt-get update -qq; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends golang-go
fi
