#!/usr/bin/env bash
# Keep the record of finished runs beside the docs: docs/data/<run>/ gets each run's config.yaml, episodes.csv,
# eval/evaluations.npz and the final models' test results (eval/*.json), about 0.5 MB a run, no model and no
# buffer. `sb3-mario plot docs/data/<run> ...` then redraws the figures of docs/results.md without the run folder.
#   bash scripts/keep_logs.sh runs/ddqn+random-s0 runs/ddqn+random-s1
set -euo pipefail
cd "$(dirname "$0")/.."
for run in "$@"; do
    if [ ! -f "$run/episodes.csv" ] || [ ! -f "$run/eval/evaluations.npz" ]; then
        echo "$run: not a run folder with episodes.csv and eval/evaluations.npz" >&2
        exit 2
    fi
    dest="docs/data/$(basename "$run")"
    mkdir -p "$dest/eval"
    cp "$run/config.yaml" "$run/episodes.csv" "$dest/"
    cp "$run/eval/evaluations.npz" "$dest/eval/"
    find "$run/eval" -maxdepth 1 -name '*.json' -exec cp {} "$dest/eval/" \;
    echo "$dest"
done
