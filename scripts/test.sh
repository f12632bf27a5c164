#!/usr/bin/env bash
# Install everything, then lint and run the whole test suite (real PostgreSQL, real Prefect).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
scripts/install-test-tools.sh
source scripts/env.sh
.venv/bin/ruff check .
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
