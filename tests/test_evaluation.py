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
    from sb3_mario.run.evaluation import PlaySettings, evaluate, format_summary

    scripted([1.0] * 40, flag=flag)  # 1 per frame for 40 frames: an episode after k no-ops earns 40 - k
    summary = evaluate(model_zip, PlaySettings(episodes=8, noop_max=3, all_starts=True, device="cpu"))
    per_episode = summary["per_episode"]
    assert [e["noops"] for e in per_episode] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert [e["reward"] for e in per_episode] == [40.0, 39.0, 38.0, 37.0] * 2
    assert [e["length"] for e in per_episode] == [10, 10, 10, 10] * 2  # ceil((40 - k) / 4) agent steps
    assert [e["win"] for e in per_episode] == [flag] * 8
    assert summary["lost_starts"] == ([] if flag else [0, 1, 2, 3])
    assert ("lost starts  none" if flag else "lost starts  0, 1, 2, 3 (no-op frames)") in format_summary(summary)


def test_random_starts_record_their_noop_count(model_zip: Path, scripted):
    from sb3_mario.run.evaluation import PlaySettings, evaluate

    scripted([1.0] * 40)
    summary = evaluate(model_zip, PlaySettings(episodes=6, noop_max=30, seed=3, device="cpu"))
    assert summary["lost_starts"] is None
    assert all(e["reward"] == 40 - e["noops"] for e in summary["per_episode"])
    assert len({e["noops"] for e in summary["per_episode"]}) > 1


def test_all_starts_needs_noops(model_zip: Path):
    from sb3_mario.errors import ConfigError
    from sb3_mario.run.evaluation import PlaySettings, evaluate

    with pytest.raises(ConfigError, match="all_starts needs noop_max > 0, actual value: 0"):
        evaluate(model_zip, PlaySettings(all_starts=True, device="cpu"))


def test_the_evaluation_env_is_the_runs_env_with_evaluation_starts(scripted):
    """One builder for every evaluation env: the run's env_kwargs, its eval_noop_max starts in turn,
    never the training's sticky actions unless asked for."""
    from gymnasium.wrappers import StickyAction

    from sb3_mario.env.wrappers import NoProgressTruncation, RandomNoopStart
    from sb3_mario.run.config import resolve
    from sb3_mario.run.evaluation import make_eval_env

    scripted([1.0] * 40)
    config = resolve(
        hyperparams={"env_kwargs": {"no_progress_steps": 7, "noop_max": 30, "repeat_action_probability": 0.25}},
        settings={"eval_noop_max": 2},
    )

    def wrappers(env) -> dict[type, object]:
        found = {}
        while hasattr(env, "env"):
            found[type(env)] = env
            env = env.env
        return found

    env = make_eval_env(config)
    found = wrappers(env)
    assert found[NoProgressTruncation]._max_steps == 7 and StickyAction not in found
    assert [env.reset(seed=0 if i == 0 else None)[1]["noops"] for i in range(4)] == [0, 1, 2, 0]
    assert env.reset(seed=0)[1]["noops"] == 0  # a seeded reset starts the cycle again
    sticky = wrappers(make_eval_env(config, noop_max=5, all_starts=False, repeat_action_probability=0.25))
    assert sticky[StickyAction].repeat_action_probability == 0.25
    assert sticky[RandomNoopStart]._noop_max == 5 and not sticky[RandomNoopStart]._in_turn


def test_play_reads_the_models_run_config(tmp_path: Path, scripted):
    """evaluate plays the env of the model's run: its level and no-progress limit (its .yaml beside it)."""
    from sb3_mario.run.config import resolve
    from sb3_mario.run.evaluation import PlaySettings, play

    scripted([0.0] * 40, xs=[40] * 40)  # Mario never moves
    model = tmp_path / "model.zip"
    DoubleDQN_zip(model)
    assert [e.length for e in play(model, PlaySettings(episodes=1, device="cpu"))] == [10]  # the game's end
    resolve(hyperparams={"env_kwargs": {"no_progress_steps": 3}}).save(tmp_path)
    (tmp_path / "config.yaml").rename(tmp_path / "model.yaml")
    assert [e.length for e in play(model, PlaySettings(episodes=1, device="cpu"))] == [3]  # the run's limit


def DoubleDQN_zip(path: Path) -> None:
    from sb3_mario import DoubleDQN, make_mario_env

    DoubleDQN("MarioCnnPolicy", make_mario_env("1-1"), buffer_size=100, seed=0, device="cpu").save(path)
