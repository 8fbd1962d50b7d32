#!/usr/bin/env bash
# Runs every test of checkup. Installs what the tests need first, when it is missing:
#   - pdftotext (Debian's poppler-utils), to read the PDF reports as text;
#   - Debian's chromium and a Japanese font, to render the HTML reports in a real browser;
#   - man (Debian's man-db), to check that `checkup man` writes a page man accepts;
#   - a Python virtual environment with polars, to read the ledger as an outside engine would, and
#     the AWS stand-ins the ingest tests start on loopback: moto's server (FIS, S3) and MiniStack
#     with cbor2 (CloudWatch over the Smithy RPC v2 CBOR protocol).
# The virtual environment lives under ${CHECKUP_TOOLS:-$HOME/.cache/checkup}, outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${CHECKUP_TOOLS:-$HOME/.cache/checkup}"
mkdir -p "$tools"

missing=()
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v man >/dev/null 2>&1 || missing+=(man-db)
[ -e /usr/share/fonts/opentype/ipafont-gothic ] || missing+=(fonts-ipafont-gothic)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "tests/run.sh: installing ${missing[*]}" >&2
  sudo_or_not=()
  [ "$(id -u)" = 0 ] || sudo_or_not=(sudo)
  "${sudo_or_not[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_or_not[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv="$tools/venv"
if ! "$venv/bin/python" -c "import polars, moto, ministack, cbor2" >/dev/null 2>&1; then
  echo "tests/run.sh: preparing $venv (polars, moto[server], ministack, cbor2)" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check polars "moto[server]" ministack cbor2
fi
export CHECKUP_TEST_PYTHON="$venv/bin/python"

exec cargo test "$@"
