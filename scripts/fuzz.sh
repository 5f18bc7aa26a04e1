#!/usr/bin/env bash
# Builds the fuzz preset (clang 14, libFuzzer + ASan/UBSan) and runs every fuzz target for a
# bounded time: $1 seconds each (default 60). New inputs go to a scratch corpus; the checked-in
# seed corpus (fuzz/corpus/<target>) is only read. A crash, sanitizer report, timeout or leak
# fails the script; the reproducer is kept in the build directory's fuzz-artifacts/.
# OUROBOROS_FUZZ_BUILD_DIR overrides the build directory (default build/fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build="${OUROBOROS_FUZZ_BUILD_DIR:-build/fuzz}"
targets=(ring-reader)

cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/ouroboros-fuzz-}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$build/fuzz-artifacts"
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds} s"
  mkdir -p "$scratch/$target"
  "$build/bin/ouroboros-fuzz-$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$target-" \
    "$scratch/$target" "fuzz/corpus/$target" 2>&1 | grep -vE '^#[0-9]+.*(NEW|REDUCE|pulse)' || {
    echo "fuzz: $target FAILED (artifacts in $build/fuzz-artifacts)" >&2
    exit 1
  }
done
echo "fuzz: all targets ran ${seconds} s without findings"
