"""Replay memory per stored transition and peak RSS: the tutorial, SB3, SB3 optimized, and ours.

Usage: python bench/replay_memory.py [--sizes 30000,1000000]

Each buffer is filled to capacity in a fresh process with (4, 84, 84) uint8 stacks that roll one
frame per step, episodes of 200 steps: the shape of Mario training data. A configuration whose
arrays would not fit in this machine's memory is reported as computed, not run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

import numpy as np

SHAPE = (4, 84, 84)
EPISODE = 200
VARIANTS = ("tutorial", "sb3", "sb3_optimized", "dedup")


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _fill(variant: str, size: int) -> dict:
    import torch
    from gymnasium import spaces
    from stable_baselines3.common.buffers import ReplayBuffer

    from sb3_mario.agent.buffers import FrameDedupReplayBuffer

    obs_space, act_space = spaces.Box(0, 255, SHAPE, np.uint8), spaces.Discrete(5)
    frames = np.random.default_rng(0).integers(0, 256, (257, *SHAPE[1:]), dtype=np.uint8)
    base = _peak_rss()
    if variant == "tutorial":
        state_mem = torch.zeros(size, *SHAPE)  # the tutorial's DQNAgent: float32 states and next states
        state2_mem = torch.zeros(size, *SHAPE)
        small = [torch.zeros(size, 1) for _ in range(3)]
        held = state_mem.nbytes + state2_mem.nbytes + sum(t.nbytes for t in small)

        def add(obs, next_obs, t):
            state_mem[t % size] = torch.from_numpy(obs).float() / 255
            state2_mem[t % size] = torch.from_numpy(next_obs).float() / 255
    else:
        if variant == "dedup":
            buffer = FrameDedupReplayBuffer(size, obs_space, act_space, device="cpu")
        else:
            optimized = variant == "sb3_optimized"
            buffer = ReplayBuffer(
                size,
                obs_space,
                act_space,
                device="cpu",
                optimize_memory_usage=optimized,
                handle_timeout_termination=not optimized,
            )
        action, reward = np.zeros((1, 1)), np.zeros(1, np.float32)

        def add(obs, next_obs, t):
            done = np.array([(t + 1) % EPISODE == 0])
            buffer.add(obs[None], next_obs[None], action, reward, done, [{}])

    obs = np.zeros(SHAPE, np.uint8)
    for t in range(size):
        if t % EPISODE == 0:
            obs = np.zeros(SHAPE, np.uint8)
            obs[-1] = frames[t % 257]
        next_obs = np.concatenate([obs[1:], frames[(t + 1) % 257][None]])
        add(obs, next_obs, t)
        obs = next_obs
    if variant != "tutorial":
        held = (
            buffer.nbytes()
            if variant == "dedup"
            else sum(
                getattr(buffer, name).nbytes
                for name in ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")
                if getattr(buffer, name, None) is not None
                and not (name == "next_observations" and buffer.optimize_memory_usage)
            )
        )
    return {"bytes_per_transition": held / size, "peak_rss_delta": _peak_rss() - base}


def _bytes_per_transition(variant: str) -> float:
    frame = SHAPE[1] * SHAPE[2]
    small = 8 + 4 + 4 + 4  # action (int64), reward, done, timeout
    return {
        "tutorial": 2 * 4 * 4 * frame + 12,
        "sb3": 8 * frame + small,
        "sb3_optimized": 4 * frame + small,
        "dedup": frame + 1 + small,
    }[variant]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30000,1000000")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_fill(args.child[0], int(args.child[1]))))
        return
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(f"machine memory: {ram / 2**30:.1f} GiB; observation {SHAPE} uint8; episodes of {EPISODE} steps")
    print(f"{'buffer':<15}{'size':>9}{'KB/transition':>15}{'peak RSS (GB)':>15}{'vs sb3':>8}{'vs sb3 opt':>11}")
    for size in (int(s) for s in args.sizes.split(",")):
        for variant in VARIANTS:
            need = _bytes_per_transition(variant) * size
            per = _bytes_per_transition(variant)
            if need > 0.8 * ram:
                rss = f"(needs {need / 1e9:.0f})"
            else:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", variant, str(size)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result = json.loads(out.stdout.strip().splitlines()[-1])
                per = result["bytes_per_transition"]
                rss = f"{result['peak_rss_delta'] / 1e9:.2f}"
            print(
                f"{variant:<15}{size:>9}{per / 1000:>15.2f}{rss:>15}{_bytes_per_transition('sb3') / per:>8.1f}"
                f"{_bytes_per_transition('sb3_optimized') / per:>11.1f}"
            )


if __name__ == "__main__":
    main()
