"""Shared test helpers: a scripted stand-in for the game and torch detection."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

HAS_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("stable_baselines3") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="needs torch and stable-baselines3, which are not installed")
    for item in items:
        if "needs_torch" in item.keywords and not HAS_TORCH:
            item.add_marker(skip)


class ScriptedGame(gym.Env):
    """A game whose frames, rewards and end are scripted: frame ``t`` is filled with ``t + 1``
    (so frames differ and max-pooling is checkable), its reward is ``rewards[t]``, ``x_pos`` is
    ``xs[t]``, Mario stands on the ground after it when ``ground[t]`` (always by default) and is in a
    jump when ``jumping[t]`` (never by default), it takes ``n_actions`` actions, and the episode
    terminates after ``len(rewards)`` steps, with ``flag_get`` as given; the info names ``level``
    (world, stage).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(
        self,
        rewards: list[float],
        flag: bool = False,
        xs: list[int] | None = None,
        frames: list[np.ndarray] | None = None,
        ground: list[bool] | None = None,
        level: tuple[int, int] = (1, 1),
        jumping: list[bool] | None = None,
        n_actions: int = 5,
    ):
        self.observation_space = gym.spaces.Box(0, 255, (240, 256, 3), dtype=np.uint8)
        self.action_space = gym.spaces.Discrete(n_actions)
        self.rewards = rewards
        self.flag = flag
        self.xs = xs if xs is not None else [40 + t for t in range(1, len(rewards) + 1)]
        self.frames = frames
        self.ground = ground if ground is not None else [True] * len(rewards)
        self.jumping = jumping if jumping is not None else [False] * len(rewards)
        self.level = level
        self.t = 0
        self.actions: list[int] = []

    def frame(self, t: int) -> np.ndarray:
        if self.frames is not None:
            return self.frames[t].copy()
        return np.full((240, 256, 3), (t + 1) % 256, dtype=np.uint8)

    def _info(self, x: int, flag: bool, on_ground: bool = True, jumping: bool = False) -> dict[str, Any]:
        world, stage = self.level
        info = {"x_pos": x, "world": world, "stage": stage, "flag_get": flag, "life": 2, "time": 400, "score": 0}
        return {**info, "coins": 0, "on_ground": on_ground, "jumping": jumping}

    def render(self) -> np.ndarray:
        return self.frame(self.t)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.t = 0
        return self.frame(0), self._info(40, False)

    def step(self, action: int):
        self.actions.append(int(action))
        self.t += 1
        done = self.t >= len(self.rewards)
        flag = self.flag and done
        info = self._info(self.xs[self.t - 1], flag, self.ground[self.t - 1], self.jumping[self.t - 1])
        return self.frame(self.t), float(self.rewards[self.t - 1]), done, False, info


class VectorEnv(gym.Env):
    """Two-dimensional observations (all zero), two actions: room for hand-set linear Q-nets."""

    observation_space = gym.spaces.Box(-10, 10, (2,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action: int):
        return np.zeros(2, np.float32), 0.0, False, False, {}


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch):
    """Make ``make_mario_env`` build a ScriptedGame: call ``scripted(rewards, flag=..., ...)``."""
    import sb3_mario.env.factory

    games: list[ScriptedGame] = []

    def install(rewards: list[float], **kwargs: Any) -> list[ScriptedGame]:
        def fake(world: int, stage: int, buttons: list, render_mode: str | None = None) -> ScriptedGame:
            game = ScriptedGame(rewards, n_actions=len(buttons), **kwargs)
            games.append(game)
            return game

        monkeypatch.setattr(sb3_mario.env.factory, "make_game", fake)
        return games

    return install


if HAS_TORCH:
    import torch

    # One thread: the suite runs beside other work on 2-core machines, where torch's spinning
    # thread pool costs more than it gains on these tiny batches.
    torch.set_num_threads(1)


@pytest.fixture
def model_zip(tmp_path, scripted):
    """An untrained DoubleDQN zip for the scripted game (its spaces: (4, 84, 84) and 5 actions)."""
    from sb3_mario import DoubleDQN, make_mario_env

    scripted([1.0])
    path = tmp_path / "model.zip"
    DoubleDQN("MarioCnnPolicy", make_mario_env("1-1"), buffer_size=100, seed=0, device="cpu").save(path)
    save_plain_config(path)
    return path


def save_plain_config(model: Path) -> None:
    """Give a model zip the config of the game's own rewards and controls (no reward scale, flag bonus or fresh
    jumps, which the default preset trains with): the env that evaluations of it play."""
    from sb3_mario.run.config import resolve

    config = resolve(hyperparams={"env_kwargs": {"no_progress_steps": 300, "noop_max": 30}})
    config.save(model.parent)
