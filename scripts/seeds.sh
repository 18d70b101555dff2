#!/usr/bin/env bash
# One configuration, several seeds, one budget: the unit of every comparison in docs/results.md.
# Trains runs/<NAME>-s<seed> for each seed in SEEDS, PARALLEL at a time (one torch thread each when several
# share the machine), and continues each run that has a checkpoint with `train --resume`: after a stop, the
# same command carries on where every run was. Arguments go to `sb3-mario train` when a run starts; a resumed
# run keeps its own config.yaml. Every run trains to the budget (curves compared at one budget), the bar's first
# step noted on the way. Then the bar's two 100-episode tests of each run's final model (epsilon 0.02, sticky
# actions 0.25; seed 0), PARALLEL runs at a time, in runs/<NAME>-s<seed>/eval/{epsilon-0.02,sticky-0.25}.json
# (and, for a run that keeps an average of its weights, the same of the average: average-epsilon-0.02.json, ...),
# and the table and curves of all the runs of NAME (`sb3-mario plot`). SIGTERM or Ctrl-C stops it cleanly:
# every run in flight saves a checkpoint (with its replay buffer) where it is.
#   NAME=ddqn STEPS=400000 bash scripts/seeds.sh --hyperparams exploration_fraction:0.25
#   NAME=sticky STEPS=400000 bash scripts/seeds.sh --hyperparams exploration_fraction:0.25 \
#       'env_kwargs:{no_progress_steps: 300, noop_max: 30, repeat_action_probability: 0.25}'
# (exploration_fraction is SB3's share of the budget: 0.25 of 400,000 is the ddqn preset's 100,000 steps.)
set -euo pipefail
cd "$(dirname "$0")/.."
NAME="${NAME:?give the configuration a NAME: its runs are runs/NAME-s<seed>}"
STEPS="${STEPS:-400000}"
SEEDS="${SEEDS:-0 1}"
PARALLEL="${PARALLEL:-2}"
OUT="${OUT:-runs}"
EVAL_FREQ="${EVAL_FREQ:-50000}"     # the run's own greedy evaluations: the 31 no-op starts
BAR_EPISODES="${BAR_EPISODES:-100}" # when one wins every start: the bar's 100 + 100 episodes (docs/runs.md)
if [ "$PARALLEL" -gt 1 ]; then
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
fi
bash scripts/setup.sh
mkdir -p "$OUT/logs"
run() {  # seed: the job becomes the training process itself, so that it receives the signals below
    local dir="$OUT/$NAME-s$1"
    if [ -f "$dir/checkpoints/checkpoint.json" ]; then
        exec .venv/bin/sb3-mario train --resume "$dir" --no-progress-bar
    else
        exec .venv/bin/sb3-mario train --seed "$1" --timesteps "$STEPS" --eval-freq "$EVAL_FREQ" \
            --bar-episodes "$BAR_EPISODES" --no-stop-at-bar --run-dir "$dir" --no-progress-bar "${@:2}"
    fi
}
pids=()
failed=0
phase=training
stop() {  # SIGTERM or Ctrl-C: each run in flight checkpoints where it is and ends; no other run starts
    trap - TERM INT
    local pid evaluations=()
    if [ "$phase" = tests ]; then  # each job of final tests waits for an evaluation: stop both
        for pid in "${pids[@]}"; do
            evaluations+=($(pgrep -P "$pid" || true))
        done
    fi
    kill -TERM "${pids[@]}" "${evaluations[@]}" 2>/dev/null || true
    wait
    echo "stopped: the same command goes on from the checkpoints" >&2
    exit 143
}
trap stop TERM INT
started() {  # pid of a job just started: once PARALLEL jobs run, wait for the oldest; failed=1 if one failed
    pids+=("$1")
    if [ "${#pids[@]}" -ge "$PARALLEL" ]; then
        wait "${pids[0]}" || failed=1
        pids=("${pids[@]:1}")
    fi
}
wait_all() {  # wait for the jobs left; failed=1 if one failed
    local pid
    for pid in "${pids[@]}"; do
        wait "$pid" || failed=1
    done
    pids=()
}
for seed in $SEEDS; do
    run "$seed" "$@" >> "$OUT/logs/$NAME-s$seed.txt" 2>&1 &  # each session's output after the last
    started "$!"
done
wait_all
if [ "$failed" = 1 ]; then
    echo "a run of $NAME failed: see $OUT/logs/$NAME-s*.txt" >&2
    exit 1
fi
at_budget() {  # run folder: its checkpoint is at the run's budget
    .venv/bin/python -c 'import json, sys; c = json.load(open(sys.argv[1]))
sys.exit(c["num_timesteps"] < c["config"]["hyperparams"]["n_timesteps"])' "$1/checkpoints/checkpoint.json"
}
keeps_average() {  # run folder: its config keeps an average of the weights (average_tau > 0)
    .venv/bin/python -c 'import sys, yaml; c = yaml.safe_load(open(sys.argv[1]))
sys.exit(not c["hyperparams"].get("average_tau", 0) > 0)' "$1/config.yaml"
}
test_final() {  # seed, json, evaluate's options: one of the bar's tests of the final model, once
    local dir="$OUT/$NAME-s$1"
    [ -f "$dir/eval/$2" ] && return 0
    at_budget "$dir" || { echo "$dir is not at its budget: its final model is not tested" >&2; return 0; }
    .venv/bin/sb3-mario evaluate "$dir" -n "$BAR_EPISODES" --seed 0 --no-progress-bar -o "$dir/eval/$2" "${@:3}" \
        >> "$OUT/logs/$NAME-s$1.txt" 2>&1
}
final_tests() {  # seed: the bar's tests of its final model, one after another (one torch thread each)
    test_final "$1" epsilon-0.02.json --epsilon 0.02
    test_final "$1" sticky-0.25.json --repeat-action-probability 0.25
    if keeps_average "$OUT/$NAME-s$1"; then
        test_final "$1" average-epsilon-0.02.json --epsilon 0.02 --average
        test_final "$1" average-sticky-0.25.json --repeat-action-probability 0.25 --average
    fi
}
phase=tests
for seed in $SEEDS; do  # the seeds' tests side by side, PARALLEL at a time, as their training
    final_tests "$seed" &
    started "$!"
done
wait_all  # a failed test is in its run's log; the table shows it missing
dirs=()
for seed in $SEEDS; do
    dirs+=("$OUT/$NAME-s$seed")
done
.venv/bin/sb3-mario plot "${dirs[@]}" --against steps --block 100 -o "$OUT/$NAME.png"
