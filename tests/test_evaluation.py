"""Evaluation with every no-op start played in turn."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_torch


@pytest.fixture
def model_zip(tmp_path: Path, scripted) -> Path:
    from sb3_mario import DoubleDQN, make_mario_env

    scripted([1.0] * 40)
    path = tmp_path / "model.zip"
    DoubleDQN("MarioCnnPolicy", make_mario_env("1-1"), buffer_size=100, seed=0, device="cpu").save(path)
    return path


@pytest.mark.parametrize("flag", [False, True])
def test_all_starts_plays_each_noop_count_in_turn(model_zip: Path, scripted, flag: bool):
    from sb3_mario.evaluation import evaluate, format_summary

    scripted([1.0] * 40, flag=flag)  # 1 per frame for 40 frames: an episode after k no-ops earns 40 - k
    summary = evaluate(model_zip, episodes=8, noop_max=3, all_starts=True, device="cpu")
    per_episode = summary["per_episode"]
    assert [e["noops"] for e in per_episode] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert [e["reward"] for e in per_episode] == [40.0, 39.0, 38.0, 37.0] * 2
    assert [e["length"] for e in per_episode] == [10, 10, 10, 10] * 2  # ceil((40 - k) / 4) agent steps
    assert [e["win"] for e in per_episode] == [flag] * 8
    assert summary["lost_starts"] == ([] if flag else [0, 1, 2, 3])
    assert ("lost starts  none" if flag else "lost starts  0, 1, 2, 3 (no-op frames)") in format_summary(summary)


def test_random_starts_record_their_noop_count(model_zip: Path, scripted):
    from sb3_mario.evaluation import evaluate

    scripted([1.0] * 40)
    summary = evaluate(model_zip, episodes=6, noop_max=30, seed=3, device="cpu")
    assert summary["lost_starts"] is None
    assert all(e["reward"] == 40 - e["noops"] for e in summary["per_episode"])
    assert len({e["noops"] for e in summary["per_episode"]}) > 1


def test_all_starts_needs_noops(model_zip: Path):
    from sb3_mario.config import ConfigError
    from sb3_mario.evaluation import evaluate

    with pytest.raises(ConfigError, match="all_starts needs noop_max > 0, actual value: 0"):
        evaluate(model_zip, all_starts=True, device="cpu")


@pytest.mark.slow
def test_training_evaluations_try_the_starts_in_turn():
    from sb3_mario.training import TrainSettings, make_eval_env

    settings = TrainSettings(eval_noop_max=2, extra={"env_kwargs": {"no_progress_steps": 300}})
    env = make_eval_env(settings)
    try:
        noops = []
        for _ in range(4):
            env.reset()
            noops.append(env.reset_infos[0]["noops"])
        assert noops == [0, 1, 2, 0]
    finally:
        env.close()
