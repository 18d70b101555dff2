#!/usr/bin/env bash
# Install everything (scripts/setup.sh), then run the sb3-mario command line with the arguments given.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/sb3-mario "$@"
