"""The hyperparams files under docs/configs: each is a preset scaled to another machine."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_torch

DOCS_CONFIGS = Path(__file__).resolve().parents[1] / "docs" / "configs"


def updates_per_env_step(hp: dict) -> float:
    """Gradient updates per collected transition: ``gradient_steps`` per ``train_freq`` steps of each env."""
    return hp["gradient_steps"] / (hp["train_freq"] * hp["n_envs"])


def test_the_14_env_config_is_the_ddqn_preset_with_more_envs():
    from sb3_mario.agent.presets import get_preset
    from sb3_mario.run.config import resolve

    config = resolve(config_file=DOCS_CONFIGS / "ddqn-1-1-14envs.yml")
    hp = config.hyperparams
    preset = get_preset("ddqn")
    scaled = {"n_envs", "gradient_steps", "buffer_size", "learning_starts"}
    assert {k: v for k, v in hp.items() if k not in scaled} == {k: v for k, v in preset.items() if k not in scaled}
    assert (hp["n_envs"], hp["gradient_steps"], hp["buffer_size"]) == (14, 14, 500_000)
    assert updates_per_env_step(hp) == updates_per_env_step(preset) == 0.25
    assert config.split().model_kwargs["gradient_steps"] == 14
