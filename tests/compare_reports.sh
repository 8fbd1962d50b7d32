#!/usr/bin/env bash
# Shows what a change of the code changed in the demo's reports, as a reader sees them: renders the
# demo at a base revision and at the work tree, then diffs report.json, every HTML file and the
# text of every PDF (pdftotext -layout), in English and in Japanese, plus the lab report of one red
# and one yellow experiment. A refactoring that keeps behaviour shows no difference.
#
#   tests/compare_reports.sh [BASE_REV] [EXPERIMENTS]    (default: HEAD and the demo's 600)
#
# Exit 0 when the outputs are identical, 1 when they differ (the diff is printed, and kept under
# the printed folder). Builds both revisions in the dev profile, in the same target folder as the
# tests (CARGO_TARGET_DIR, default ~/.cache/checkup/target), so only checkup itself is rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-HEAD}"
experiments="${2:-600}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/checkup/target}"
command -v pdftotext >/dev/null || { echo "compare_reports.sh: needs pdftotext (poppler-utils)" >&2; exit 2; }

work="$(mktemp -d -t checkup-compare-XXXXXX)"
trap 'git worktree remove --force "$work/base-tree" >/dev/null 2>&1 || true' EXIT

# Builds the tree in $1 and copies its binary to $2. `cargo test --no-run` builds the binary with
# the features the tests build it with, so the dependencies the test suite built are reused.
# Cargo's fingerprint of checkup does not depend on the folder it is built from and compares file
# times only, so a tree whose files are older than the other tree's build would count as built:
# touching the crate roots makes each build compile that tree.
build() {
  touch "$1/src/lib.rs" "$1/src/main.rs"
  (cd "$1" && cargo test --quiet --no-run)
  cp "$CARGO_TARGET_DIR/debug/checkup" "$2"
}

# Renders every report of the demo with binary $1 into folder $2, as text a person reads.
render() {
  local checkup="$1" out="$2"
  "$checkup" demo --out "$out/run" --experiments "$experiments" --quiet
  "$checkup" --ledger "$out/run/ledger" report --lang ja --out "$out/run/ja" --quiet
  # The lab reports of the first red and the first yellow experiment of the period.
  local ids
  ids="$(python3 - "$out/run/reports/report.json" <<'EOF'
import json, sys
model = json.load(open(sys.argv[1]))
for verdict in ("red", "yellow"):
    for e in model["experiments"]:
        if e["verdict"] == verdict:
            print(e["experiment_id"])
            break
EOF
)"
  for id in $ids; do
    for lang in en ja; do
      "$checkup" --ledger "$out/run/ledger" report --kind "experiment:$id" --format html,pdf \
        --lang "$lang" --out "$out/run/$lang-lab" --quiet
    done
  done
  mkdir -p "$out/text"
  (cd "$out/run" && find reports ja en-lab ja-lab -type f | sort) | while read -r file; do
    local flat="${file//\//__}"
    case "$file" in
      *.pdf) pdftotext -layout "$out/run/$file" "$out/text/$flat.txt" ;;
      *) cp "$out/run/$file" "$out/text/$flat" ;;
    esac
  done
}

git worktree add --quiet --detach "$work/base-tree" "$base"
build "$work/base-tree" "$work/checkup-base"
build . "$work/checkup-new"
render "$work/checkup-base" "$work/base"
render "$work/checkup-new" "$work/new"

if diff -ru "$work/base/text" "$work/new/text" >"$work/reports.diff"; then
  echo "identical: $(ls "$work/new/text" | wc -l) files of the demo's reports ($experiments experiments, base $base)"
  exit 0
fi
cat "$work/reports.diff"
echo "differ: see $work/reports.diff" >&2
exit 1
