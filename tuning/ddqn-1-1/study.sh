#!/usr/bin/env bash
# The ddqn-1-1 study (tuning/ddqn-1-1/README.md): 20 trials of 100,000 env steps over gamma, learning rate and
# exploration, on top of docs/configs/ddqn-1-1-base.yml (the ddqn preset when the study began). Its storage is
# study.db beside this file: the same command resumes it after any stop (a trial cut off mid-way is failed by
# heartbeat and run again) and stops at 20 finished trials.
# A second worker on the same machine: run this script again (sqlite serialises the writes). Extra arguments go
# to `sb3-mario tune`.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"  # one core per worker: a trial acts on one observation at a time
exec .venv/bin/sb3-mario tune \
    --study-name ddqn-1-1 --storage sqlite:///tuning/ddqn-1-1/study.db -o tuning/ddqn-1-1 \
    --config docs/configs/ddqn-1-1-base.yml --level 1-1 --seed 0 --device cpu \
    --trial-timesteps 100000 --n-evaluations 4 --eval-episodes 31 --eval-noop-max 30 \
    --sampler tpe --pruner median --max-trials 20 --n-trials 20 "$@"
