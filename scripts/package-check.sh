#!/usr/bin/env bash
# Checks what scripts/package.sh built, as a user of the packages would meet it: lintian and
# desktop-file-validate/appstreamcli on the .deb files; then installs them with apt-get, runs the
# installed programs (--version against the package version, ouroboros-cli on a live segment of
# the installed demo writer, the viewer offscreen for a few seconds), builds examples/ against
# the installed libouroboros-dev, installs the Python wheel into a fresh venv and runs its CLI on
# a live segment. Finally it purges the packages and whatever apt-get pulled in for them, so the
# machine is left with the packages it had before. Needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
packages=(ouroboros-tools ouroboros-viewer libouroboros-dev)
debs=()
for p in "${packages[@]}"; do
  found=(build/release/packages/"${p}"_*.deb)
  [ -f "${found[0]}" ] || { echo "package-check: no ${p}_*.deb (run scripts/package.sh)"; exit 1; }
  debs+=("${found[0]}")
done
wheels=(python/dist/ouroboros_reader-*.whl)
[ -f "${wheels[0]}" ] || { echo "package-check: no wheel in python/dist (run scripts/package.sh)"; exit 1; }
version=$(dpkg-deb -f "${debs[0]}" Version)
tmp=$(mktemp -d)
# Qt wants a private runtime directory; without one it warns on every start.
export XDG_RUNTIME_DIR="$tmp/xdg"
mkdir -m 0700 "$XDG_RUNTIME_DIR"
segment="ouroboros-package-check-$$"
writer_pid=""

installed_now() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 ~ /^.i/ {print $2}' | sort; }
installed_before=$(installed_now)
for p in "${packages[@]}"; do
  if grep -qx "$p" <<<"$installed_before"; then
    echo "package-check: $p is installed already; it is replaced by this build's and purged at the end"
  fi
done

cleanup() {
  set +e
  [ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null && wait "$writer_pid" 2>/dev/null
  rm -f "/dev/shm/$segment" "/dev/shm/$segment-example" "/dev/shm/$segment-spdlog" "/dev/shm/$segment-py"
  # Our packages and anything apt-get installed for them; nothing that was there before.
  local added
  added=$(comm -13 <(echo "$installed_before") <(installed_now) | grep -vxF -f <(printf '%s\n' "${packages[@]}"))
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y -qq "${packages[@]}" $added >/dev/null
  if [ -n "$(comm -13 <(echo "$installed_before") <(installed_now))" ]; then
    echo "package-check: packages left installed: $(comm -13 <(echo "$installed_before") <(installed_now))"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "--- lintian (errors fail; warnings are shown)"
lintian --fail-on error --info "${debs[@]}"

echo "--- desktop entry and AppStream metadata"
dpkg-deb -x "${debs[1]}" "$tmp/viewer"
desktop-file-validate "$tmp/viewer/usr/share/applications/ouroboros-viewer.desktop"
appstreamcli validate --no-net --pedantic "$tmp"/viewer/usr/share/metainfo/*.metainfo.xml

echo "--- install ${debs[*]##*/}"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  "${debs[@]/#/./}" >/dev/null

echo "--- installed programs"
for program in ouroboros-cli ouroboros-demo-writer ouroboros-viewer; do
  path=$(command -v "$program")
  [ "$path" = "/usr/bin/$program" ] || { echo "$program is $path, not /usr/bin/$program"; exit 1; }
  first=$(QT_QPA_PLATFORM=offscreen "$program" --version | head -n 1)
  [ "$first" = "$program $version" ] || { echo "$program --version: '$first', package: $version"; exit 1; }
  echo "$first"
done
for page in ouroboros-cli ouroboros-cli-tail ouroboros-cli-list ouroboros-cli-inspect \
            ouroboros-cli-forward ouroboros-demo-writer ouroboros-viewer; do
  zcat "/usr/share/man/man1/$page.1.gz" | grep -q '^\.SH DESCRIPTION' || { echo "man page $page: no DESCRIPTION"; exit 1; }
done
echo "man pages: 7 in /usr/share/man/man1"
bash -c 'source /usr/share/bash-completion/completions/ouroboros-cli && complete -p ouroboros-cli' >/dev/null
echo "bash completion: loads"

# Runs until killed below (the duration only bounds it should this script be killed itself).
ouroboros-demo-writer --segment "$segment" --rate 2000 --duration 600 --quiet &
writer_pid=$!
for _ in $(seq 50); do [ -e "/dev/shm/$segment" ] && break; sleep 0.1; done
sleep 0.5
ouroboros-cli list | grep -q "$segment" || { echo "ouroboros-cli list does not show $segment"; exit 1; }
ouroboros-cli inspect "$segment" --rows 2 | grep -E '^(header|versions) '
lines=$(ouroboros-cli tail "$segment" --from oldest --max 20 | wc -l)
[ "$lines" -ge 20 ] || { echo "ouroboros-cli tail printed $lines lines"; exit 1; }
echo "ouroboros-cli list, inspect, tail: ok on a live segment"

QT_QPA_PLATFORM=offscreen timeout 60 ouroboros-viewer --segment "$segment" \
  --screenshot "$tmp/viewer.png" --screenshot-after 3000
[ -s "$tmp/viewer.png" ] || { echo "the viewer saved no screenshot"; exit 1; }
echo "ouroboros-viewer: ran offscreen for 3 s attached to the live segment"

echo "--- examples/ against the installed libouroboros-dev"
cmake -S examples -B "$tmp/example" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/example" -j 2 >/dev/null
"$tmp/example/ouroboros-example-app" "$segment-example" >/dev/null
"$tmp/example/ouroboros-example-spdlog" "$segment-spdlog" >/dev/null
echo "examples: built with find_package(ouroboros) from /usr and ran"

echo "--- Python wheel in a fresh venv"
"${PYTHON:-/usr/bin/python3}" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --no-index "${wheels[0]}"
first=$("$tmp/venv/bin/python" -m ouroboros_reader --version)
[ "${first%% (*}" = "ouroboros_reader $version" ] || { echo "python -m ouroboros_reader --version: '$first'"; exit 1; }
echo "$first"
lines=$(cd "$tmp" && venv/bin/python -m ouroboros_reader "$segment" --no-follow --max 20 | wc -l)
[ "$lines" -ge 20 ] || { echo "python -m ouroboros_reader printed $lines lines"; exit 1; }
lines=$("$tmp/venv/bin/ouroboros-py-tail" "$segment" --start oldest --no-follow --max 5 --json | wc -l)
[ "$lines" -ge 5 ] || { echo "ouroboros-py-tail printed $lines lines"; exit 1; }
echo "wheel: the module's CLI read the live segment"

kill "$writer_pid"
wait "$writer_pid" 2>/dev/null || true
writer_pid=""
echo "--- purge"
