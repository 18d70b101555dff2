"""Training throughput (env steps/s) with the `article` preset: DoubleDQN, SB3's DQN, the tutorial's loop.

Usage: python bench/train_throughput.py [--steps 1500] [--threads 1,2] [--device cpu]

Every contender trains on the same preprocessed 1-1 env with the tutorial's settings: one update of
batch 32 per env step from the 32nd transition, buffer 30,000. Steps/s is measured after the first
100 steps (allocation and warm-up excluded).
"""

from __future__ import annotations

import argparse
import time

import torch

from sb3_mario import make_mario_env  # first: it imports the legacy gym quietly

from stable_baselines3.common.callbacks import BaseCallback  # isort: skip
import tutorial_agent  # noqa: E402  (bench/ is on sys.path when run as a script)

from sb3_mario.run.config import build_callbacks, resolve

WARMUP = 100


class _Clock(BaseCallback):
    def __init__(self):
        super().__init__()
        self.start = 0.0

    def _on_step(self) -> bool:
        if self.num_timesteps == WARMUP:
            self.start = time.perf_counter()
        return True


def sb3_rate(algo: str, steps: int, device: str) -> float:
    hp = resolve("article", settings={"algo": algo}).split()
    model = hp.algo(hp.policy, make_mario_env("1-1"), seed=0, device=device, **hp.model_kwargs)
    clock = _Clock()
    model.learn(steps, callback=[clock, *build_callbacks(hp.callback)])
    return (steps - WARMUP) / (time.perf_counter() - clock.start)


def tutorial_rate(steps: int, device: str) -> float:
    env = make_mario_env("1-1")
    tutorial_agent.run(env, WARMUP, device)  # warm-up on its own agent
    start = time.perf_counter()
    tutorial_agent.run(env, steps - WARMUP, device)
    return (steps - WARMUP) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--threads", default="1,2", help="torch intra-op thread counts to measure")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(
        f"device: {args.device}{' (' + torch.cuda.get_device_name() + ')' if args.device == 'cuda' else ''}, "
        f"torch {torch.__version__}, {args.steps} steps"
    )
    print(f"{'threads':>7}  {'DoubleDQN':>10}  {'SB3 DQN':>9}  {'tutorial':>9}  {'DDQN/DQN':>9}  {'DDQN/tutorial':>13}")
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        ddqn = sb3_rate("ddqn", args.steps, args.device)
        dqn = sb3_rate("dqn", args.steps, args.device)
        tut = tutorial_rate(args.steps, args.device)
        print(f"{threads:>7}  {ddqn:>10.1f}  {dqn:>9.1f}  {tut:>9.1f}  {ddqn / dqn:>9.2f}  {ddqn / tut:>13.2f}")


if __name__ == "__main__":
    main()
