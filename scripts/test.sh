#!/usr/bin/env bash
# Installs what is missing, builds every configuration and runs every test suite:
# the normal build, AddressSanitizer+UBSan, ThreadSanitizer, the fuzzer for a bounded time,
# and the Python and Go readers. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi
export QT_QPA_PLATFORM=offscreen
jobs=$(nproc)
started=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - started )) s)"; }

step "dev build"
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"
step "dev tests"
ctest --preset dev -j "$jobs"

step "asan+ubsan build"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
step "asan+ubsan tests"
ctest --preset asan -j "$jobs" -LE no_sanitizer

step "tsan build"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs"
step "tsan tests (concurrency)"
ctest --preset tsan -j "$jobs" -L concurrency

if [ -x scripts/fuzz.sh ]; then
  step "fuzz"
  scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
fi

if [ -d python ] && [ -f python/pyproject.toml ]; then
  step "python reader"
  python3 -m pytest -q python/tests
fi
if [ -d go ] && [ -f go/go.mod ]; then
  step "go reader ($(go version | awk '{print $3}'))"
  (cd go && go test ./...)
  # go.mod promises Debian 12's Go 1.19: prove it when a newer go is the default.
  case "$(go env GOVERSION)" in
    go1.19*) ;;  # the default go is Debian's already
    *)
      if [ -x /usr/lib/go-1.19/bin/go ]; then
        step "go reader ($(/usr/lib/go-1.19/bin/go version | awk '{print $3}'), Debian's)"
        (cd go && /usr/lib/go-1.19/bin/go test ./...)
      fi
      ;;
  esac
  step "go fuzz (bounded)"
  # Bounded by a count of inputs, not by time: with a time bound Go's fuzzing coordinator can
  # report its own deadline as a failure ("context deadline exceeded", no crasher written) when
  # a worker is busy as the time runs out (go.dev/issue/75804, in Go 1.26 releases).
  for target in FuzzDecodeRecord FuzzReader FuzzRenderDeferred; do
    (cd go && go test -run=NONE -fuzz="^${target}\$" -fuzztime="${GO_FUZZ_EXECS:-400000}x" .)
  done
fi
# Windows: the MinGW-w64 cross build of core, demo_writer and ouroboros-cli with their test
# suites, run under Wine (headless, private prefix in build/windows/wineprefix), and the Go
# reader's Windows build against segments of the Windows demo_writer (docs/windows.md).
step "windows: cross build (MinGW-w64)"
windows_started=$(date +%s)
cmake --preset windows >/dev/null
cmake --build --preset windows -j "$jobs"
step "windows: tests under Wine"
ctest --preset windows -j "$jobs"
if [ -d go ] && [ -f go/go.mod ]; then
  # Built with Debian's Go 1.19 when it is there: go.mod's promise holds for Windows too.
  windows_go=go
  if [ -x /usr/lib/go-1.19/bin/go ]; then windows_go=/usr/lib/go-1.19/bin/go; fi
  step "windows: go reader under Wine ($("$windows_go" version | awk '{print $3}'))"
  (cd go && GOOS=windows GOARCH=amd64 "$windows_go" test -c -o ../build/windows/go/ouroboros-go.test.exe .)
  windows_bin="$(WINEPREFIX="$PWD/build/windows/wineprefix" WINEDEBUG=-all winepath -w build/windows/bin)"
  (cd go && OUROBOROS_BIN_DIR="$windows_bin" ../cmake/wine-run.sh ../build/windows/go/ouroboros-go.test.exe)
fi
echo "windows phase: $(( $(date +%s) - windows_started )) s"

if [ -x scripts/package.sh ]; then
  # Release build of what is installed (no tests, no benchmarks), the .deb files and the wheel;
  # then lintian, install, run, build the example against them, and purge them again.
  step "packages: build"
  phase_started=$(date +%s)
  scripts/package.sh
  step "packages: check, install, run, purge"
  scripts/package-check.sh
  echo "packages phase: $(( $(date +%s) - phase_started )) s"
fi
step "all tests passed"
