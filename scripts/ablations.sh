#!/usr/bin/env bash
# The ablations of docs/results.md, one arm after another: each arm is `scripts/seeds.sh` (seeds 0 and 1, 400,000 env
# steps unless STEPS says otherwise) on docs/configs/ddqn-1-1-base.yml (the ddqn preset before these arms' recipe
# became it) with epsilon decaying over its 100,000 steps
# (exploration_fraction 100,000/STEPS: 0.25 at 400,000) and the arm's changes: up to a step, runs of different budgets
# train alike and compare. Arms stack, as the changes kept do: `overlap` is compared with `ddqn`, then every arm trains
# with overlapped updates, `overlap+sticky` is compared with `overlap`, and so on. `dqn` (SB3's DQN with the `ddqn`
# arm's settings), `overlap+sticky+bf16`, `overlap+sticky+rr-half`, `overlap+sticky+scale`, `overlap+sticky+per`,
# `overlap+sticky+dueling` and `overlap+shift` run on demand (ARMS), and so does `overlap+sticky+replay+per+scale`,
# three changes at once: the changes most likely to help, stacked to find a recipe that wins before each is taken out
# again (`overlap+sticky+per+scale`, `overlap+sticky+replay+scale`, `overlap+sticky+replay+per`), and the stack with
# DQN's target instead of the double-Q one (`overlap+sticky+replay+per+scale+dqn-target`) or with a learning rate
# falling linearly to 0 at the budget (`overlap+sticky+replay+per+scale+lr-decay`), or with jumps that always jump on
# the ground and a bonus on the flag (`overlap+sticky+replay+per+scale+fresh-jump+flag`). From `overlap` on,
# the arms also keep an average of the online weights (`average_tau: 0.005`, as SR-SPR and BBF), which each evaluation
# plays beside the online network: it changes nothing in training, and shows within the same runs whether the average
# is the better model to keep. The same command goes on after any stop: a finished run resumes
# at its budget and ends at once, a run cut off goes on from its checkpoint. SIGTERM or Ctrl-C stops it cleanly
# (seeds.sh checkpoints its runs). ARMS picks some, in order:
#   ARMS="overlap overlap+sticky" bash scripts/ablations.sh
# SEEDS, PARALLEL, STEPS and OUT go to seeds.sh. After each arm, its runs and those of the arm it is compared with,
# up to env step COMPARE_AT (400,000 unless set; runs with a larger STEPS compare at it too):
# OUT/<arm>-vs-<other>.md (the table) and .png (the curves), from `sb3-mario plot --until`.
set -euo pipefail
cd "$(dirname "$0")/.."
ALL="ddqn overlap overlap+sticky overlap+sticky+replay overlap+sticky+batch16"  # the queue
ON_DEMAND="overlap+sticky+replay+per+scale overlap+sticky+replay+per+scale+fresh-jump+flag overlap+sticky+replay+per+scale+dqn-target overlap+sticky+replay+per+scale+lr-decay overlap+sticky+per+scale overlap+sticky+replay+scale overlap+sticky+replay+per overlap+sticky+dueling overlap+sticky+bf16 overlap+sticky+rr-half overlap+sticky+scale overlap+sticky+per overlap+shift dqn"
AVERAGE=average_tau:0.005  # evaluated beside the online network, no change to training
STICKY_ENV='no_progress_steps: 300, noop_max: 30, repeat_action_probability: 0.25'  # the base's env, sticky actions
STICKY="env_kwargs:{$STICKY_ENV}"
SHIFT='replay_buffer_kwargs:{n_steps: 3, shift_pad: 4}'  # DrQ's random shifts of sampled observations
PER='replay_buffer_kwargs:{n_steps: 3, priority_alpha: 0.5}'  # prioritized replay (beta 0.5, the default)
REPLAY="env_kwargs:{$STICKY_ENV, replay_start_probability: 0.5}"
REPLAY_SCALE="env_kwargs:{$STICKY_ENV, replay_start_probability: 0.5, reward_scale: 0.1}"
SCALE="env_kwargs:{$STICKY_ENV, reward_scale: 0.1}"
UNSTUCK="env_kwargs:{$STICKY_ENV, replay_start_probability: 0.5, reward_scale: 0.1, fresh_jump: true, flag_bonus: 50}"
arm() {  # name: the arm it is compared with (a blank line for none), then its `sb3-mario train` arguments
    local budget=(--config docs/configs/ddqn-1-1-base.yml
        --hyperparams "exploration_fraction:$(awk "BEGIN { print 100000 / ${STEPS:-400000} }")")
    local stack=(overlap_updates:true "$AVERAGE" "$REPLAY_SCALE" "$PER")  # overlap+sticky+replay+per+scale's changes
    case "$1" in
        ddqn) printf '%s\n' "" "${budget[@]}" ;;
        overlap) printf '%s\n' ddqn "${budget[@]}" overlap_updates:true "$AVERAGE" ;;
        overlap+sticky) printf '%s\n' overlap "${budget[@]}" overlap_updates:true "$AVERAGE" "$STICKY" ;;
        overlap+sticky+bf16)  # bfloat16 features in the gradient steps: 1.6x faster updates here
            printf '%s\n' overlap+sticky "${budget[@]}" overlap_updates:true "$AVERAGE" "$STICKY" mixed_precision:true ;;
        overlap+sticky+replay)  # half the episodes start part-way along one of the farthest earlier ones
            printf '%s\n' overlap+sticky "${budget[@]}" overlap_updates:true "$AVERAGE" "$REPLAY" ;;
        overlap+sticky+replay+per+scale)  # replayed starts, prioritized replay and rewards / 10 together
            printf '%s\n' overlap+sticky+replay "${budget[@]}" "${stack[@]}" ;;
        overlap+sticky+replay+per+scale+fresh-jump+flag)  # the stack, a jump on the ground always jumps, +50 on the flag
            printf '%s\n' overlap+sticky+replay+per+scale "${budget[@]}" overlap_updates:true "$AVERAGE" "$UNSTUCK" "$PER" ;;
        overlap+sticky+replay+per+scale+dqn-target)  # the stack with DQN's max target: double Q-learning's worth
            printf '%s\n' overlap+sticky+replay+per+scale "${budget[@]}" "${stack[@]}" double_q:false ;;
        overlap+sticky+replay+per+scale+lr-decay)  # the stack, its learning rate falling from 2.5e-4 to 0 at the budget
            printf '%s\n' overlap+sticky+replay+per+scale "${budget[@]}" "${stack[@]}" learning_rate:lin_2.5e-4 ;;
        overlap+sticky+per+scale)  # the stack without replayed starts
            printf '%s\n' overlap+sticky+replay+per+scale "${budget[@]}" overlap_updates:true "$AVERAGE" "$SCALE" "$PER" ;;
        overlap+sticky+replay+scale)  # the stack without prioritized replay
            printf '%s\n' overlap+sticky+replay+per+scale "${budget[@]}" overlap_updates:true "$AVERAGE" "$REPLAY_SCALE" ;;
        overlap+sticky+replay+per)  # the stack without rewards / 10
            printf '%s\n' overlap+sticky+replay+per+scale "${budget[@]}" overlap_updates:true "$AVERAGE" "$REPLAY" "$PER" ;;
        overlap+sticky+batch16)  # half the update's cost at the same updates (small batches: Obando-Ceron et al. 2023)
            printf '%s\n' overlap+sticky "${budget[@]}" overlap_updates:true "$AVERAGE" "$STICKY" batch_size:16 ;;
        overlap+sticky+rr-half)  # half the update's cost by half the updates
            printf '%s\n' overlap+sticky "${budget[@]}" overlap_updates:true "$AVERAGE" "$STICKY" gradient_steps:1 ;;
        overlap+sticky+scale)  # rewards of the order of 1, where Huber's delta and Adam's epsilon were tuned
            printf '%s\n' overlap+sticky "${budget[@]}" overlap_updates:true "$AVERAGE" "$SCALE" ;;
        overlap+sticky+per)  # proportional prioritized replay, Rainbow's and Dopamine's alpha and beta
            printf '%s\n' overlap+sticky "${budget[@]}" overlap_updates:true "$AVERAGE" "$STICKY" "$PER" ;;
        overlap+sticky+dueling)  # the dueling head (Wang et al. 2016) on the tutorial's trunk
            printf '%s\n' overlap+sticky "${budget[@]}" overlap_updates:true "$AVERAGE" "$STICKY" 'policy_kwargs:{dueling: true}' ;;
        overlap+shift) printf '%s\n' overlap "${budget[@]}" overlap_updates:true "$AVERAGE" "$SHIFT" ;;
        dqn) printf '%s\n' ddqn --algo dqn "${budget[@]}" ;;  # SB3's DQN, ddqn's settings: the target net's max
        *) echo "unknown arm $1: valid arms are $ALL $ON_DEMAND" >&2; return 2 ;;
    esac
}
ARMS="${ARMS:-$ALL}"
for name in $ARMS; do arm "$name" > /dev/null; done  # every name checked before any run starts
child=
stop() {
    trap - TERM INT
    [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" || true
    exit 143
}
trap stop TERM INT
for name in $ARMS; do
    mapfile -t lines < <(arm "$name")
    base=${lines[0]}
    args=("${lines[@]:1}")
    echo "== arm $name: ${args[*]}"
    NAME="$name" STEPS="${STEPS:-400000}" bash scripts/seeds.sh "${args[@]}" &
    child=$!
    wait "$child"
    child=
    [ -n "$base" ] || continue
    runs=()
    for seed in ${SEEDS:-0 1}; do
        runs+=("${OUT:-runs}/$base-s$seed")
    done
    for seed in ${SEEDS:-0 1}; do
        runs+=("${OUT:-runs}/$name-s$seed")
    done
    # the comparison: both arms' table and curves, when the arm before has its runs
    if .venv/bin/sb3-mario plot "${runs[@]}" --against steps --block 100 --until "${COMPARE_AT:-400000}" \
        -o "${OUT:-runs}/$name-vs-$base.png" > "${OUT:-runs}/$name-vs-$base.md"; then
        cat "${OUT:-runs}/$name-vs-$base.md"
    else
        echo "no comparison of $name with $base: see the error above" >&2
    fi
done
