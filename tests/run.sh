#!/usr/bin/env bash
# Runs every test of checkup. Installs what the tests need first, when it is missing:
#   - pdftotext (Debian's poppler-utils), to read the PDF reports as text;
#   - Debian's chromium and a Japanese font, to render the HTML reports in a real browser;
#   - man (Debian's man-db), to check that `checkup man` writes a page man accepts;
#   - tzdata, to run the demo in Tokyo's and Los Angeles's time zones;
#   - a Python virtual environment with polars, to read the ledger as an outside engine would, and
#     the AWS stand-ins the ingest tests start on loopback: moto's server (FIS, S3) and MiniStack
#     with cbor2 (CloudWatch over the Smithy RPC v2 CBOR protocol), each at the version pinned in
#     tests/standins/requirements.txt.
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
[ -e /usr/share/zoneinfo/Asia/Tokyo ] || missing+=(tzdata)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "tests/run.sh: installing ${missing[*]}" >&2
  sudo_or_not=()
  [ "$(id -u)" = 0 ] || sudo_or_not=(sudo)
  "${sudo_or_not[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_or_not[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv="$tools/venv"
# The versions are pinned (tests/standins/requirements.txt); the venv is brought to them whenever
# the file changes.
requirements=tests/standins/requirements.txt
if ! cmp -s "$requirements" "$venv/.checkup-requirements.txt" \
  || ! "$venv/bin/python" -c "import polars, moto, ministack, cbor2" >/dev/null 2>&1; then
  echo "tests/run.sh: preparing $venv (polars, moto[server], ministack, cbor2 as pinned in $requirements)" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/.checkup-requirements.txt"
fi
export CHECKUP_TEST_PYTHON="$venv/bin/python"

exec cargo test "$@"
