#!/usr/bin/env bash
# Benchmarks of demo_writer and ouroboros-cli, printing the figures recorded in
# docs/performance.md ("demo_writer and the command-line tools").
#   usage: bench/tools/tools_bench.sh [BIN_DIR]   (default: build/release/bin)
# 1. demo_writer's maximum rate (--rate 0) by payload size, records and raw payloads, 1 thread,
#    plus natural records with 1 and 4 producer threads.
# 2. tail's throughput to /dev/null (text, JSON, and text with a regex filter) over a segment
#    pre-filled with natural records, and forward's JSON lines throughput.
set -euo pipefail
bin="${1:-build/release/bin}"
writer="$bin/ouroboros-demo-writer"
cli="$bin/ouroboros-cli"
seconds="${BENCH_SECONDS:-2}"
name="ouroboros-bench-$$"
trap 'rm -f "/dev/shm/$name" "/dev/shm/$name-fill"' EXIT

summary_field() {  # the summary's value of $1, from demo_writer --json output on stdin
  python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"
}

echo "demo_writer maximum rate (--rate 0, ${seconds} s, 64 x 1 MiB ring)"
printf "%-8s %-8s %-8s %14s %12s\n" mode threads payload "entries/s" "MB/s"
for mode in record raw; do
  for size in 16 64 256 1024 4096; do
    extra=()
    [ "$mode" = raw ] && extra+=(--raw)
    # A record needs at least its header, tag and fields: tiny sizes only make sense raw.
    if [ "$mode" = record ] && [ "$size" -lt 64 ]; then continue; fi
    out=$("$writer" -s "$name" --rate 0 -d "$seconds" --chunks 64 --chunk-size 1M --size-dist fixed \
      --payload-size "$size" --json -q "${extra[@]}")
    rate=$(echo "$out" | summary_field rate)
    bytes=$(echo "$out" | summary_field bytes_per_s)
    printf "%-8s %-8s %-8s %14.0f %12.1f\n" "$mode" 1 "$size" "$rate" "$(python3 -c "print($bytes/1e6)")"
  done
done
for threads in 1 4; do
  out=$("$writer" -s "$name" --rate 0 -d "$seconds" --chunks 64 --chunk-size 1M --threads "$threads" --json -q)
  rate=$(echo "$out" | summary_field rate)
  bytes=$(echo "$out" | summary_field bytes_per_s)
  printf "%-8s %-8s %-8s %14.0f %12.1f\n" record "$threads" natural "$rate" "$(python3 -c "print($bytes/1e6)")"
done

echo
count="${BENCH_TAIL_ENTRIES:-400000}"
"$writer" -s "$name-fill" --rate 0 --count "$count" --chunks 128 --chunk-size 1M --keep -q >/dev/null
echo "tail throughput to /dev/null over $count natural records (128 x 1 MiB ring, no wrap)"
printf "%-36s %10s %14s\n" command seconds "entries/s"
measure() {
  local label="$1"; shift
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  python3 -c "import sys; t=$end-$start; print('%-36s %10.3f %14.0f' % (sys.argv[1], t, $count/t))" "$label"
}
measure "tail --from oldest (text)" "$cli" tail "$name-fill" --from oldest --color never
measure "tail --from oldest --json" "$cli" tail "$name-fill" --from oldest --json
measure "tail --from oldest --color always" "$cli" tail "$name-fill" --from oldest --color always
measure "tail --from oldest -g 'GET /api'" "$cli" tail "$name-fill" --from oldest -g 'GET /api'
measure "forward --to - (JSON lines)" "$cli" forward "$name-fill" --to -
