#!/usr/bin/env bash
# The tutorial's comparison at equal env steps: its "DQN" (no target network), its "DDQN" (DQN with a
# target network) and our Double DQN, for each seed; then the plot and table of docs/results.md.
# The three runs of a seed train side by side, one torch thread each (PARALLEL=0 runs them one by one).
# Re-running continues unfinished runs from their checkpoints.
#   STEPS=1000000 SEEDS="0 1" bash scripts/compare_article.sh
#   STEPS=20000 SEEDS="0 1" BLOCK=25 bash scripts/compare_article.sh   (the run in docs/results.md)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS="${STEPS:-1000000}"
SEEDS="${SEEDS:-0 1}"
OUT="${OUT:-runs/compare}"
PARALLEL="${PARALLEL:-1}"
BLOCK="${BLOCK:-500}"  # episodes per point of the plot (the tutorial's 500)
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
run() {  # name algo preset seed
    local dir="$OUT/$1-s$4"
    if [ -f "$dir/checkpoints/checkpoint.json" ]; then
        .venv/bin/sb3-mario train --resume "$dir" --no-progress-bar
    else
        .venv/bin/sb3-mario train --algo "$2" --preset "$3" --seed "$4" --timesteps "$STEPS" --n-envs 1 \
            --run-dir "$dir" --no-progress-bar
    fi
}
wait_all() {  # wait for the runs started so far; stop at the first that failed
    for pid in "${pids[@]}"; do
        wait "$pid" || { echo "a run of seed $seed failed: see $OUT/logs/" >&2; exit 1; }
    done
    pids=()
}
bash scripts/setup.sh
mkdir -p "$OUT/logs"
for seed in $SEEDS; do
    pids=()
    for spec in "article-dqn dqn article_no_target" "article-ddqn dqn article" "ddqn ddqn ddqn"; do
        # shellcheck disable=SC2086
        run $spec "$seed" > "$OUT/logs/${spec%% *}-s$seed.txt" 2>&1 &
        pids+=("$!")
        if [ "$PARALLEL" = 0 ]; then wait_all; fi
    done
    wait_all
done
.venv/bin/sb3-mario plot "$OUT"/*-s*/ -o docs/img/comparison.png --block "$BLOCK"
