"""Frames per second of the bare emulator, the raw game env, and the full preprocessed env.

Usage: python bench/env_throughput.py [--frames 20000] [--vec 1,2,4]

One emulator frame is the unit everywhere: a preprocessed env step is 4 frames (frame skip).
Actions are drawn once from a seeded generator so every stage plays the same inputs.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from sb3_mario import make_mario_env, make_mario_vec_env
from sb3_mario.env.backend import action_sets, backend_name, make_game


def _rate(step, reset, n_steps: int, frames_per_step: int) -> float:
    reset()
    start = time.perf_counter()
    for i in range(n_steps):
        if step(i):
            reset()
    return n_steps * frames_per_step / (time.perf_counter() - start)


def bare_emulator(frames: int, actions: np.ndarray) -> float:
    """The game package's own JoypadSpace env: nes-py stepping, no bridge, no copies."""
    game = make_game(1, 1, action_sets()["right_only"])
    # the package's env under our backend: shimmy's bridge holds it on the legacy generation
    joypad = game._game.gym_env if backend_name() == "legacy" else game._game

    def step(i: int) -> bool:
        result = joypad.step(int(actions[i % len(actions)]))
        return bool(result[2] or (len(result) == 5 and result[3]))

    return _rate(step, joypad.reset, frames, 1)


def raw_env(frames: int, actions: np.ndarray) -> float:
    """Our backend's gymnasium env (bridge, info normalisation, frame copy), one frame per step."""
    env = make_game(1, 1, action_sets()["right_only"])

    def step(i: int) -> bool:
        _, _, terminated, truncated, _ = env.step(int(actions[i % len(actions)]))
        return terminated or truncated

    return _rate(step, lambda: env.reset(seed=0), frames, 1)


def preprocessed_env(frames: int, actions: np.ndarray) -> float:
    """make_mario_env: skip 4 + max-pool, crop/gray/84x84, stack 4, episode info."""
    env = make_mario_env("1-1")

    def step(i: int) -> bool:
        _, _, terminated, truncated, _ = env.step(int(actions[i % len(actions)]))
        return terminated or truncated

    return _rate(step, lambda: env.reset(seed=0), frames // 4, 4)


def vec_env(n_envs: int, frames: int, actions: np.ndarray) -> float:
    """make_mario_vec_env with Subproc envs (auto-reset inside); frames summed over envs."""
    env = make_mario_vec_env(n_envs, "1-1", seed=0, vec_env="subproc")
    env.reset()
    n_steps = frames // (4 * n_envs)
    start = time.perf_counter()
    for i in range(n_steps):
        env.step(np.full(n_envs, actions[i % len(actions)]))
    rate = n_steps * 4 * n_envs / (time.perf_counter() - start)
    env.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000, help="emulator frames per measurement")
    parser.add_argument("--vec", default="1,2,4", help="numbers of Subproc envs to measure")
    args = parser.parse_args()
    actions = np.random.default_rng(0).integers(0, 5, 10_000)
    print(
        f"backend: {backend_name()}, python {platform.python_version()}, {platform.processor() or platform.machine()}"
    )
    bare = bare_emulator(args.frames, actions)
    raw = raw_env(args.frames, actions)
    full = preprocessed_env(args.frames, actions)
    print(f"{'stage':<34}{'frames/s':>10}{'vs raw':>9}")
    print(f"{'bare emulator (game package)':<34}{bare:>10.0f}{bare / raw:>9.2f}")
    print(f"{'raw env (sb3_mario backend)':<34}{raw:>10.0f}{1.0:>9.2f}")
    print(f"{'preprocessed env (make_mario_env)':<34}{full:>10.0f}{full / raw:>9.2f}")
    for n in (int(v) for v in args.vec.split(",") if v):
        rate = vec_env(n, args.frames, actions)
        print(f"{f'vec env, {n} subproc':<34}{rate:>10.0f}{rate / raw:>9.2f}")


if __name__ == "__main__":
    main()
