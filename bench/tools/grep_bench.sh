#!/usr/bin/env bash
# tail's throughput with and without a --grep filter (RE2), best of 5 runs, over 400 000 natural
# records pre-written into a 128 x 1 MiB segment (no wrap), output to /dev/null.
#   usage: bench/tools/grep_bench.sh [BIN_DIR]   (default: build/release/bin)
set -uo pipefail
B="${1:-build/release/bin}"
N="ouroboros-bench-grep-$$"
trap 'rm -f "/dev/shm/$N"' EXIT
"$B/ouroboros-demo-writer" -s "$N" --rate 0 --count 400000 --chunks 128 --chunk-size 1M --keep -q >/dev/null
measure() {
  local label="$1"; shift
  local best=999
  for i in 1 2 3 4 5; do
    s=$(date +%s.%N); "$@" > /dev/null 2>&1; rc=$?; e=$(date +%s.%N)
    best=$(python3 -c "print(min($best, $e-$s))")
  done
  python3 -c "import sys; print('%-44s %.3f s %6.2f M entries/s (rc %s)' % (sys.argv[1], $best, 0.4/$best, sys.argv[2]))" "$label" $rc
}
measure "tail (text)" "$B/ouroboros-cli" tail "$N" --from oldest --color never
measure "tail -g 'GET /api'" "$B/ouroboros-cli" tail "$N" --from oldest --color never -g 'GET /api'
measure "tail -g '(timeout|refused|failed) .*\\d+'" "$B/ouroboros-cli" tail "$N" --from oldest --color never -g '(timeout|refused|failed) .*\d+'
measure "tail -g '.*timeout.*'" "$B/ouroboros-cli" tail "$N" --from oldest --color never -g '.*timeout.*'
measure "tail -i -g 'get /api'" "$B/ouroboros-cli" tail "$N" --from oldest --color never -i -g 'get /api'
