#!/usr/bin/env bash
# The peer benchmark (issue 8): chaostoolkit-reporting (`chaos report --export-format=html`, PyPI,
# with Debian's pandoc) against checkup (`ingest chaostoolkit` into a fresh ledger, then `report
# --format html`, all kinds) on the same Chaos Toolkit journals from ../shared/data. Each side runs
# five times; the best wall time and its peak memory are printed, with the ratio.
#
# Journals: the eight of the shared set that both tools accept. The experiment-*.json files are
# experiment definitions, not journals (both refuse them); chaostoolkit-reporting crashes on
# failed-deviated__mdrcs-terminate-frontend.json, journal-aborted.json and journal-interrupted.json
# (their `experiment` or `run` parts are missing or null), which checkup reads.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${CHECKUP_TOOLS:-$HOME/.cache/checkup}"
venv="$tools/peer-venv"
if ! "$venv/bin/chaos" --version >/dev/null 2>&1; then
  echo "benches/peer.sh: preparing $venv (chaostoolkit, chaostoolkit-reporting)" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check chaostoolkit chaostoolkit-reporting
fi
missing=()
command -v pandoc >/dev/null 2>&1 || missing+=(pandoc)
[ -x /usr/bin/time ] || missing+=(time)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_or_not=()
  [ "$(id -u)" = 0 ] || sudo_or_not=(sudo)
  "${sudo_or_not[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_or_not[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
cargo build --release --quiet --bin checkup
target="${CARGO_TARGET_DIR:-target}"
checkup="$target/release/checkup"

journals=../shared/data/chaostoolkit-journals
files=(
  "$journals/completed__chaostoolkit-ansible_kill-process.json"
  "$journals/failed-deviated__reliably-slo.json"
  "$journals/failed-legacy-0.12__tutorials-exchange-file.json"
  "$journals/interrupted__chaostoolkit-ansible_fill-disk.json"
  "$journals/generated/journal-completed.json"
  "$journals/generated/journal-deviated.json"
  "$journals/generated/journal-failed.json"
  "$journals/generated/journal-recovery.json"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints "<seconds> <peak KiB>" of the best of five runs of "$@".
best_of_five() {
  local best="" peak=""
  for _ in 1 2 3 4 5; do
    rm -rf "$work/ledger" "$work/reports" "$work/ctk.html"
    /usr/bin/time -f "%e %M" -o "$work/time" bash -c "$1" >/dev/null 2>&1
    read -r seconds kib < "$work/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($seconds < $best)}"; then best=$seconds; peak=$kib; fi
  done
  echo "$best $peak"
}

quoted=$(printf '%q ' "${files[@]}")
peer=$(best_of_five "'$venv/bin/chaos' --no-log-file report --export-format=html $quoted '$work/ctk.html'")
ours=$(best_of_five "'$checkup' --ledger '$work/ledger' --quiet ingest chaostoolkit $quoted && '$checkup' --ledger '$work/ledger' --quiet report --format html --out '$work/reports'")
read -r peer_s peer_kib <<< "$peer"
read -r ours_s ours_kib <<< "$ours"
echo "# peer benchmark: ${#files[@]} Chaos Toolkit journals to HTML (best of 5)"
echo "| tool | wall time | peak memory |"
echo "|---|---:|---:|"
echo "| chaostoolkit-reporting $("$venv/bin/pip" show chaostoolkit-reporting | awk '/^Version/{print $2}') (chaos report) | $peer_s s | $((peer_kib / 1024)) MiB |"
echo "| checkup (ingest chaostoolkit + report --format html, 3 reports) | $ours_s s | $((ours_kib / 1024)) MiB |"
awk "BEGIN{printf \"ratio: checkup takes %.3f of chaostoolkit-reporting's time\\n\", $ours_s / $peer_s}"
