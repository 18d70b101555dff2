"""Time to sample a batch from SB3's buffers and ours, one-step and n-step, with DrQ's random shifts and prioritized.

Usage: python bench/replay_sampling.py [--size 50000] [--batch 32] [--repeats 2000]

Each buffer holds ``size`` transitions of (4, 84, 84) uint8 stacks that roll one frame per step, in
episodes of 200 steps, from 2 envs (the ``ddqn`` preset's). One torch thread, as the update that
follows a sample would leave the second core to the envs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

SHAPE = (4, 84, 84)
EPISODE = 200
N_ENVS = 2


def _filled(buffer, size: int) -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (257, *SHAPE[1:]), dtype=np.uint8)
    obs = np.stack([frames[:4]] * N_ENVS)
    for t in range(size // N_ENVS):
        next_obs = np.concatenate([obs[:, 1:], np.stack([frames[(t + 4 + e) % 257][None] for e in range(N_ENVS)])], 1)
        done = np.array([(t + 1) % EPISODE == 0] * N_ENVS)
        buffer.add(obs, next_obs, rng.integers(0, 5, (N_ENVS, 1)), rng.normal(size=N_ENVS), done, [{}] * N_ENVS)
        obs = np.stack([frames[:4]] * N_ENVS) if done[0] else next_obs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()

    import torch
    from gymnasium import spaces
    from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer

    from sb3_mario.agent.buffers import FrameDedupReplayBuffer

    torch.set_num_threads(1)
    spaces_ = (spaces.Box(0, 255, SHAPE, np.uint8), spaces.Discrete(5))
    variants = {
        "SB3 ReplayBuffer": lambda: ReplayBuffer(args.size, *spaces_, device="cpu", n_envs=N_ENVS),
        "SB3 NStepReplayBuffer, n_steps=3": lambda: NStepReplayBuffer(
            args.size, *spaces_, device="cpu", n_envs=N_ENVS, n_steps=3, gamma=0.9
        ),
        "FrameDedupReplayBuffer": lambda: FrameDedupReplayBuffer(args.size, *spaces_, device="cpu", n_envs=N_ENVS),
        "FrameDedupReplayBuffer, n_steps=3": lambda: FrameDedupReplayBuffer(
            args.size, *spaces_, device="cpu", n_envs=N_ENVS, n_steps=3, gamma=0.9
        ),
        "FrameDedupReplayBuffer, n_steps=3, shift_pad=4": lambda: FrameDedupReplayBuffer(
            args.size, *spaces_, device="cpu", n_envs=N_ENVS, n_steps=3, gamma=0.9, shift_pad=4
        ),
        # with the priority update that follows each prioritized batch in training
        "FrameDedupReplayBuffer, n_steps=3, priority_alpha=0.5": lambda: FrameDedupReplayBuffer(
            args.size, *spaces_, device="cpu", n_envs=N_ENVS, n_steps=3, gamma=0.9, priority_alpha=0.5
        ),
    }
    errors = np.random.default_rng(1).normal(size=args.batch)
    print(f"| buffer ({args.size:,} transitions) | ms per batch of {args.batch} |")
    print("| --- | ---: |")
    for name, make in variants.items():
        buffer = make()
        _filled(buffer, args.size)
        np.random.seed(0)
        start = time.perf_counter()
        for _ in range(args.repeats):
            batch = buffer.sample(args.batch)
            if getattr(buffer, "priority_alpha", 0) > 0:
                buffer.update_priorities(batch.slots, errors)
        print(f"| {name} | {(time.perf_counter() - start) / args.repeats * 1e3:.3f} |")
        del buffer


if __name__ == "__main__":
    main()
