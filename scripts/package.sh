#!/usr/bin/env bash
# Builds the Debian packages and the Python wheel and sdist:
#   build/release/packages/{ouroboros-tools,ouroboros-viewer,libouroboros-dev}_VERSION_ARCH.deb
#   python/dist/ouroboros_reader-VERSION-py3-none-any.whl and .tar.gz
# The packages come from the release preset, built without tests and benchmarks (only what is
# installed) and with the man pages. Run scripts/deps.sh first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}

cmake --preset release -DCMAKE_INSTALL_PREFIX=/usr -DOUROBOROS_BUILD_BENCH=OFF -DOUROBOROS_BUILD_TESTS=OFF \
  -DOUROBOROS_BUILD_MANPAGES=ON >/dev/null
cmake --build --preset release -j "$jobs"
rm -f build/release/packages/*.deb
# CPack stages each component with `cmake --install`, strips it and runs dpkg-shlibdeps.
quietly() { local out; out=$("$@" 2>&1) || { echo "$out"; return 1; }; }
quietly cpack --config build/release/CPackConfig.cmake -B build/release/packages
ls -1 build/release/packages/*.deb

# Build isolation would download setuptools; Debian's python3-build, python3-setuptools and
# python3-wheel (scripts/deps.sh) are used instead, hence Debian's interpreter.
python=${PYTHON:-/usr/bin/python3}
rm -rf python/dist
quietly "$python" -m build --no-isolation --sdist --wheel --outdir python/dist python
rm -rf python/build python/src/*.egg-info
ls -1 python/dist/*
