#!/usr/bin/env bash
# The whole-history report of issue 20 against polars' own read of the same ledger:
#   benches/whole_history.sh LEDGER CONFIG [RUNS]
# e.g. benches/whole_history.sh /tmp/bench-ledgers/ledger-10000-observed-45m-70m /tmp/bench-ledgers/bench.toml
# (the ledgers and bench.toml that `CHECKUP_BENCH_LEDGERS=/tmp/bench-ledgers cargo bench --bench scale`
# keeps). Prints the wall time of each `checkup report --format json` run over 2025-01-01..2026-12-31
# and over 2000-01-01..2100-01-01 (a period ending far ahead), sorted, then Python polars reading
# every Parquet file of the ledger (best of five; the virtual environment tests/run.sh prepares).
set -euo pipefail
cd "$(dirname "$0")/.."
ledger=${1:?usage: benches/whole_history.sh LEDGER CONFIG [RUNS]}
config=${2:?usage: benches/whole_history.sh LEDGER CONFIG [RUNS]}
runs=${3:-10}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
checkup="$target/release/checkup"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for period in 2025-01-01..2026-12-31 2000-01-01..2100-01-01; do
  times=()
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    "$checkup" --quiet --config "$config" report --ledger "$ledger" --period "$period" \
      --format json --out "$out"
    times+=("$(echo "$(date +%s.%N) - $start" | bc)")
  done
  echo "report --period $period --format json: $(printf '%.3f\n' "${times[@]}" | sort -n | tr '\n' ' ')s"
done
python=${CHECKUP_TEST_PYTHON:-$HOME/.cache/checkup/venv/bin/python}
"$python" - "$ledger" <<'PY'
import glob, sys, time
import polars as pl
files = sorted(glob.glob(sys.argv[1] + "/**/*.parquet", recursive=True))
times = []
for _ in range(5):
    start = time.perf_counter()
    for path in files:
        pl.read_parquet(path)
    times.append(time.perf_counter() - start)
print(f"python polars read of {len(files)} files: {min(times):.3f} s (best of 5)")
PY
