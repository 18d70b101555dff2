#!/usr/bin/env bash
# Create .venv (Python 3.11 by default) with sb3-mario and its test dependencies.
# torch is installed first at 2.13.0: the CPU wheel where one is on local disk, else PyPI's build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=".venv/.sb3-mario-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q "torch==2.13.0"
    .venv/bin/python -m pip install -q -e ".[test]"
    touch "$stamp"
fi
