#!/usr/bin/env bash
# System packages the tests need beyond the Python lock, from Debian. Idempotent.
# - chromium: the browser test of the Prefect UI drives it headless (tests/ops/test_ui_browser.py);
# - wordnet-base, wordnet-sense-index: WordNet 3.0 for valentine's Cupid and COMA matchers, which
#   the mapping benchmark and its test compare ours against (bench/mapping.py,
#   tests/test_mapping_vs_valentine.py); valentine would download it, and there is no internet.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -f /usr/share/wordnet/data.noun ] || missing+=(wordnet-base)
[ -f /usr/share/wordnet/index.sense ] || missing+=(wordnet-sense-index)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-tools: no apt-get here; install ${missing[*]} yourself (the tests need them)" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
}
