"""Torch threads beside training: `evaluate`'s time and the training's env steps/s, alone and side by side.

Usage: python bench/threads.py [--episodes 8] [--warmup 1500]

Every figure comes from this one run on this machine, each command in its own process:

1. training alone (the `ddqn` preset, 2 Subproc envs, learning from step 500), its learner at 2 torch threads
   (torch's default on 2 cores) and at 1 (what `sb3-mario train` sets there: the cores the env workers leave);
2. `evaluate --noop-max 30 --all-starts -n EPISODES` of the shipped model alone, at 2 threads and at 1;
3. the same evaluation beside a training run (its threads as `sb3-mario train` sets them): at 2 threads
   (before: torch's default) and at 1 (ours).

A training's rate is read from its episodes.csv (env steps and wall time of each finished episode) over the
window it is measured in. Threads are set through OMP_NUM_THREADS, which sb3-mario leaves alone.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "sb3_mario"]


def last_episode(run: Path) -> tuple[int, float] | None:
    """(env steps, wall time) at the end of the run's last finished episode."""
    path = run / "episodes.csv"
    if not path.exists():
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return (int(rows[-1]["timestep"]), float(rows[-1]["wall_time"])) if rows else None


def start_training(run: Path, threads: int | None) -> subprocess.Popen:
    """A training run in the background; ``threads=None`` leaves its learner's threads to sb3-mario."""
    args = ["train", "--run-dir", str(run), "--timesteps", "1000000", "--learning-starts", "500", "--eval-freq", "0"]
    args += ["--checkpoint-freq", "1000000", "--no-save-replay-buffer", "--no-progress-bar"]
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    return subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_steps(run: Path, steps: int) -> tuple[int, float]:
    while True:
        last = last_episode(run)
        if last is not None and last[0] >= steps:
            return last
        time.sleep(0.5)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=300)


def rate(a: tuple[int, float], b: tuple[int, float]) -> float:
    return (b[0] - a[0]) / (b[1] - a[1])


def evaluate(threads: int, episodes: int) -> float:
    args = ["evaluate", "--noop-max", "30", "--all-starts", "-n", str(episodes), "--no-progress-bar"]
    args += ["-o", os.devnull]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    subprocess.run([*CLI, *args], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=8, help="evaluation episodes (all-starts)")
    parser.add_argument("--warmup", type=int, default=1500, help="env steps a training runs before it is measured")
    parser.add_argument("--window", type=float, default=60.0, help="seconds a training alone is measured")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sb3-mario-threads-"))
    print(f"{os.cpu_count()} cores; evaluation: {args.episodes} greedy episodes of the shipped model")
    print(f"{'what':<46}{'evaluate (s)':>13}{'training (env steps/s)':>24}")
    try:
        for threads in (2, 1):
            run = tmp / f"alone-{threads}"
            proc = start_training(run, threads)
            a = wait_for_steps(run, args.warmup)
            time.sleep(args.window)
            b = wait_for_steps(run, a[0] + 1)
            stop(proc)
            print(f"{f'training alone, learner at {threads} threads':<46}{'':>13}{rate(a, b):>24.1f}")
        for threads in (2, 1):
            print(f"{f'evaluate alone at {threads} threads':<46}{evaluate(threads, args.episodes):>13.1f}")
        for threads, when in ((2, "before"), (1, "after")):
            run = tmp / f"beside-{threads}"
            proc = start_training(run, None)
            a = wait_for_steps(run, args.warmup)
            seconds = evaluate(threads, args.episodes)
            b = wait_for_steps(run, a[0] + 1)
            stop(proc)
            label = f"evaluate at {threads} threads beside training ({when})"
            print(f"{label:<46}{seconds:>13.1f}{rate(a, b):>24.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
