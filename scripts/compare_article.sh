#!/usr/bin/env bash
# The tutorial's comparison at equal env steps: its "DQN" (no target network), its "DDQN" (DQN with a
# target network) and our Double DQN, for each seed; then the plot and table of docs/results.md.
# Re-running continues unfinished runs from their checkpoints.
#   STEPS=1000000 SEEDS="0 1" bash scripts/compare_article.sh
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS="${STEPS:-1000000}"
SEEDS="${SEEDS:-0 1}"
OUT="${OUT:-runs/compare}"
run() {  # name algo preset seed
    local dir="$OUT/$1-s$4"
    if [ -f "$dir/checkpoints/checkpoint.json" ]; then
        .venv/bin/sb3-mario train --resume "$dir" --no-progress-bar
    else
        .venv/bin/sb3-mario train --algo "$2" --preset "$3" --seed "$4" --timesteps "$STEPS" --n-envs 1 \
            --run-dir "$dir" --no-progress-bar
    fi
}
bash scripts/setup.sh
for seed in $SEEDS; do
    run article-dqn dqn article_no_target "$seed"
    run article-ddqn dqn article "$seed"
    run ddqn ddqn ddqn "$seed"
done
.venv/bin/sb3-mario plot "$OUT"/* -o docs/img/comparison.png --block 500
