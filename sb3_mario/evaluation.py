"""Loading saved models and playing evaluation episodes."""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_mario.config import ConfigError
from sb3_mario.double_dqn import DoubleDQN
from sb3_mario.env import make_mario_env


def load_model(path: str | Path, device: str = "auto") -> BaseAlgorithm:
    """Load a DQN or DoubleDQN zip, with one clear error for a missing or broken file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"model file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ConfigError(f"{path} is not a model zip (not a zip archive)")
    try:
        return DoubleDQN.load(path, device=device)  # also reads DQN zips: same parameters
    except Exception as e:  # a zip without SB3's data, or from an unrelated algorithm
        raise ConfigError(f"{path} is not a DQN/DoubleDQN model zip ({type(e).__name__}: {e})") from None


def check_compatible(model: BaseAlgorithm, env: Any, env_name: str) -> None:
    """Raise a ConfigError naming both sides when the model cannot play ``env``."""
    ours = (tuple(model.observation_space.shape), int(model.action_space.n))
    theirs = (tuple(env.observation_space.shape), int(env.action_space.n))
    if ours != theirs:
        raise ConfigError(
            f"the model expects observations {ours[0]} and {ours[1]} actions, but {env_name} gives "
            f"observations {theirs[0]} and {theirs[1]} actions (check --action-set and the frame settings)"
        )


@dataclass
class Episode:
    """One evaluation episode."""

    reward: float
    length: int
    win: bool
    x_pos: int
    noops: int = 0


class Player:
    """Pick actions greedily, or epsilon-greedily with its own seeded generator.

    :param model: a DQN/DoubleDQN
    :param epsilon: probability of a uniformly random action (0: greedy)
    :param seed: seed of the epsilon draws
    """

    def __init__(self, model: BaseAlgorithm, epsilon: float = 0.0, seed: int | None = None):
        if not 0.0 <= epsilon <= 1.0:
            raise ConfigError(f"epsilon must be in [0, 1], actual value: {epsilon}")
        self.model = model
        self.epsilon = epsilon
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: np.ndarray) -> int:
        if self.epsilon > 0 and self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.model.action_space.n))
        action, _ = self.model.predict(obs, deterministic=True)
        return int(action)


def play_episode(env: Any, player: Player, seed: int | None = None, on_frame: Any = None) -> Episode:
    """Play one episode; ``on_frame(env)`` is called after the reset and after every step."""
    obs, reset_info = env.reset(seed=seed)
    noops = int(reset_info.get("noops", 0))
    if on_frame is not None:
        on_frame(env)
    total, length = 0.0, 0
    while True:
        obs, reward, terminated, truncated, info = env.step(player(obs))
        total += float(reward)
        length += 1
        if on_frame is not None:
            on_frame(env)
        if terminated or truncated:
            return Episode(total, length, bool(info["is_success"]), int(info["x_pos"]), noops)


def play(
    model_path: str | Path,
    episodes: int,
    *,
    level: str = "1-1",
    action_set: str = "right_only",
    epsilon: float = 0.0,
    noop_max: int = 0,
    all_starts: bool = False,
    seed: int = 0,
    device: str = "auto",
    render_mode: str | None = None,
    on_frame: Any = None,
) -> list[Episode]:
    """Load a model and play ``episodes`` episodes on a fresh env; episode ``i`` resets with ``seed + i``.

    :param all_starts: start episode ``i`` with ``i % (noop_max + 1)`` no-op frames instead of a random
        number. Greedy play is deterministic, so ``noop_max + 1`` episodes then give the exact win rate
        that random no-op starts only estimate.
    :raises ConfigError: for a missing or broken model, or one that does not fit the env
    """
    if episodes <= 0:
        raise ConfigError(f"episodes must be positive, actual value: {episodes}")
    if all_starts and noop_max <= 0:
        raise ConfigError(f"all_starts needs noop_max > 0, actual value: {noop_max}")
    model = load_model(model_path, device)
    env = make_mario_env(
        level, action_set=action_set, noop_max=noop_max, noop_in_turn=all_starts, render_mode=render_mode
    )
    try:
        check_compatible(model, env, f"level {level} with action set {action_set}")
        player = Player(model, epsilon, seed)
        return [play_episode(env, player, seed + i, on_frame) for i in range(episodes)]
    finally:
        env.close()


def evaluate(
    model_path: str | Path,
    level: str = "1-1",
    episodes: int = 10,
    epsilon: float = 0.0,
    noop_max: int = 0,
    all_starts: bool = False,
    seed: int = 0,
    device: str = "auto",
    action_set: str = "right_only",
    output: str | Path | None = None,
) -> dict[str, Any]:
    """Play ``episodes`` episodes and return (and optionally write as JSON) the summary.

    The emulator is deterministic: greedy episodes from the same start repeat exactly. Use
    ``epsilon`` (e.g. 0.02, the training floor) or ``noop_max`` (e.g. 30 random no-op frames at the
    start) to measure how robust the agent is; with ``all_starts`` (see :func:`play`) each no-op
    count is played in turn, and ``lost_starts`` lists the counts of the episodes lost.
    """
    results = play(
        model_path,
        episodes,
        level=level,
        action_set=action_set,
        epsilon=epsilon,
        noop_max=noop_max,
        all_starts=all_starts,
        seed=seed,
        device=device,
    )
    rewards = np.array([e.reward for e in results])
    summary = {
        "model": str(model_path),
        "level": level,
        "episodes": episodes,
        "epsilon": epsilon,
        "noop_max": noop_max,
        "all_starts": all_starts,
        "lost_starts": sorted({e.noops for e in results if not e.win}) if all_starts else None,
        "win_rate": float(np.mean([e.win for e in results])),
        "mean_reward": float(rewards.mean()),
        "std_reward": float(rewards.std()),
        "mean_x_pos": float(np.mean([e.x_pos for e in results])),
        "mean_length": float(np.mean([e.length for e in results])),
        "per_episode": [asdict(e) for e in results],
    }
    if output is not None:
        Path(output).write_text(json.dumps(summary, indent=2))
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a small aligned table."""
    rows = [
        ("episodes", f"{summary['episodes']}"),
        ("win rate", f"{100 * summary['win_rate']:.1f} %"),
        ("reward", f"{summary['mean_reward']:.1f} +/- {summary['std_reward']:.1f}"),
        ("final x_pos", f"{summary['mean_x_pos']:.0f}"),
        ("length", f"{summary['mean_length']:.0f} steps"),
    ]
    n = summary["noop_max"]
    noops = f"each of 0..{n} no-op frames in turn" if summary["all_starts"] else f"up to {n} no-op frames"
    rows.append(("start", f"epsilon {summary['epsilon']}, {noops}"))
    if summary["all_starts"]:
        rows.append(("lost starts", f"{', '.join(map(str, summary['lost_starts'])) or 'none'} (no-op frames)"))
    return "\n".join(f"{name:<12} {value}" for name, value in rows)
