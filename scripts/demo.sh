#!/usr/bin/env bash
# Install everything, then run the demo migration on the shipped sample (embedded defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
source scripts/env.sh
exec .venv/bin/mfactory demo "$@"
