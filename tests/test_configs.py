"""The hyperparams files under docs/configs: the ablations' base and its scaling to another machine."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_torch

DOCS_CONFIGS = Path(__file__).resolve().parents[1] / "docs" / "configs"


def updates_per_env_step(hp: dict) -> float:
    """Gradient updates per collected transition: ``gradient_steps`` per ``train_freq`` steps of each env."""
    return hp["gradient_steps"] / (hp["train_freq"] * hp["n_envs"])


def test_the_base_is_the_ddqn_preset_without_the_recipe():
    from sb3_mario.agent.presets import get_preset
    from sb3_mario.run.config import resolve

    base = resolve(config_file=DOCS_CONFIGS / "ddqn-1-1-base.yml").hyperparams
    preset = get_preset("ddqn")
    assert {k for k in preset if base.get(k) != preset[k]} == {
        "n_timesteps",
        "replay_buffer_kwargs",
        "exploration_fraction",
        "env_kwargs",
        "overlap_updates",
        "average_tau",
    }
    assert (base["n_timesteps"], preset["n_timesteps"]) == (2_000_000, 800_000)
    # epsilon falls over the same 100,000 env steps in both
    assert base["exploration_fraction"] * base["n_timesteps"] == preset["exploration_fraction"] * preset["n_timesteps"]
    assert base["replay_buffer_kwargs"] == {"n_steps": 3} and preset["replay_buffer_kwargs"]["n_steps"] == 3
    assert base["env_kwargs"] == {k: preset["env_kwargs"][k] for k in ("no_progress_steps", "noop_max")}


def test_the_decay_config_is_the_ddqn_preset_with_its_learning_rate_decay():
    from sb3_mario.agent.presets import get_preset
    from sb3_mario.run.config import resolve

    decay = resolve(config_file=DOCS_CONFIGS / "ddqn-1-1-decay.yml").hyperparams
    preset = get_preset("ddqn")
    assert "callback" not in preset
    assert decay == {**preset, "callback": [{"sb3_mario.agent.schedules.LearningRateDecay": {"fraction": 0.5}}]}


def test_the_14_env_config_is_the_base_with_more_envs():
    from sb3_mario.run.config import resolve

    config = resolve(config_file=DOCS_CONFIGS / "ddqn-1-1-14envs.yml")
    hp = config.hyperparams
    preset = resolve(config_file=DOCS_CONFIGS / "ddqn-1-1-base.yml").hyperparams
    scaled = {"n_envs", "gradient_steps", "buffer_size", "learning_starts"}
    assert {k: v for k, v in hp.items() if k not in scaled} == {k: v for k, v in preset.items() if k not in scaled}
    assert (hp["n_envs"], hp["gradient_steps"], hp["buffer_size"]) == (14, 14, 500_000)
    assert updates_per_env_step(hp) == updates_per_env_step(preset) == 0.25
    assert config.split().model_kwargs["gradient_steps"] == 14
