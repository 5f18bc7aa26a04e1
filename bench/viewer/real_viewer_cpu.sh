#!/usr/bin/env bash
# CPU of the real ouroboros-viewer (no benchmark instrumentation in its event loop) attached to
# an ouroboros-demo-writer at RATE entries/s, under Xvfb, over SECONDS after an 8 s warm-up.
#   bench/viewer/real_viewer_cpu.sh RATE [SECONDS] [BIN_DIR]
set -euo pipefail
rate=${1:?usage: $0 RATE [SECONDS] [BIN_DIR]}
seconds=${2:-60}
bin=${3:-build/release/bin}
name=ouroboros-cpu-probe-$$
XDG_CONFIG_HOME=$(mktemp -d)  # a user's saved layout must neither change nor matter
export XDG_CONFIG_HOME
"$bin/ouroboros-demo-writer" --segment "$name" --rate "$rate" >/dev/null 2>&1 &
writer=$!
viewer=
trap 'kill $viewer $writer 2>/dev/null; wait 2>/dev/null; rm -rf "$XDG_CONFIG_HOME"' EXIT
sleep 1
xvfb-run -a -s "-screen 0 1600x1000x24" "$bin/ouroboros-viewer" --segment "$name" >/dev/null 2>&1 &
sleep 8
viewer=
for pid in $(pgrep -f "ouroboros-viewer --segment $name" || true); do
  [ "$(cat /proc/"$pid"/comm)" = "ouroboros-viewe" ] && viewer=$pid
done
[ -n "$viewer" ] || { echo "the viewer did not start" >&2; exit 1; }
cpu() { awk '{print $14 + $15}' /proc/"$viewer"/stat; }
t0=$(cpu); s0=$(date +%s.%N)
sleep "$seconds"
t1=$(cpu); s1=$(date +%s.%N)
hz=$(getconf CLK_TCK)
awk -v t="$((t1 - t0))" -v hz="$hz" -v s0="$s0" -v s1="$s1" -v rate="$rate" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN { printf "writer %s entries/s: viewer %.2f %% of one core over %.0f s (load %s)\n",
             rate, 100 * t / hz / (s1 - s0), s1 - s0, load }'
