#!/usr/bin/env bash
# Runs every test of checkup. Installs what the tests need first, when it is missing:
#   - pdftotext (Debian's poppler-utils), to read the PDF reports as text;
#   - a Python virtual environment with polars, to read the ledger as an outside engine would.
# The virtual environment lives under ${CHECKUP_TOOLS:-$HOME/.cache/checkup}, outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${CHECKUP_TOOLS:-$HOME/.cache/checkup}"
mkdir -p "$tools"

if ! command -v pdftotext >/dev/null 2>&1; then
  echo "tests/run.sh: installing poppler-utils (pdftotext)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq poppler-utils >/dev/null; fi
fi

venv="$tools/venv"
if ! "$venv/bin/python" -c "import polars" >/dev/null 2>&1; then
  echo "tests/run.sh: creating $venv with polars" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check polars
fi
export CHECKUP_TEST_PYTHON="$venv/bin/python"

exec cargo test "$@"
