#!/usr/bin/env bash
# Install everything (scripts/setup.sh) and run the test suite; extra arguments go to pytest.
# Where Python 3.13 is available, the env-layer tests also run on the native
# gym-super-mario-bros 9.x backend, without torch, in .venv313.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check sb3_mario tests bench
.venv/bin/python -m pytest "$@"
PY313="${PY313:-}"
if [ -z "$PY313" ]; then
    for candidate in /root/.pyenv/versions/3.13*/bin/python "$(command -v python3.13 || true)"; do
        if [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
            PY313="$candidate"
            break
        fi
    done
fi
if [ -n "$PY313" ] && [ -z "${SKIP_NATIVE:-}" ]; then
    [ -x .venv313/bin/python ] || "$PY313" -m venv .venv313
    stamp=".venv313/.sb3-mario-installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        .venv313/bin/python -m pip install -q --upgrade pip
        .venv313/bin/python -m pip install -q -e . "pytest>=8"
        touch "$stamp"
    fi
    echo "--- native backend (Python 3.13, gym-super-mario-bros 9.x, no torch) ---"
    .venv313/bin/python -m pytest -q tests/test_env.py tests/test_wrappers.py
fi
