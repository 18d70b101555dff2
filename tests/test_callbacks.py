"""ResumableEvalCallback: the evaluation history and best model of a resumed run, on CartPole."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

pytestmark = pytest.mark.needs_torch


class ReportsSuccess(gym.Wrapper):
    """CartPole whose episodes end with ``info["is_success"] = success``."""

    def __init__(self, env: gym.Env, success: bool):
        super().__init__(env)
        self.success = success

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            info["is_success"] = self.success
        return obs, reward, terminated, truncated, info


def resume_at_250(tmp_path: Path, n_eval_episodes: int, success: bool | None = None) -> object:
    """Learn 5 steps from step 250 with an evaluation at the 5th: a run resumed from a checkpoint.
    The evaluation episodes report ``is_success = success`` (``None``: nothing, as CartPole)."""
    from stable_baselines3 import DQN
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    from sb3_mario.callbacks import ResumableEvalCallback

    model = DQN("MlpPolicy", DummyVecEnv([lambda: gym.make("CartPole-v1")]), learning_starts=10_000, seed=0)
    model.num_timesteps = 250
    callback = ResumableEvalCallback(
        DummyVecEnv(
            [
                lambda: Monitor(
                    gym.make("CartPole-v1") if success is None else ReportsSuccess(gym.make("CartPole-v1"), success)
                )
            ]
        ),
        n_eval_episodes=n_eval_episodes,
        eval_freq=5,
        log_path=str(tmp_path),
        best_model_save_path=str(tmp_path),
        verbose=0,
    )
    model.learn(5, callback=callback, reset_num_timesteps=False)
    return callback


def write_history(tmp_path: Path) -> None:
    """Evaluations at 100, 200 and 300 (the last after the checkpoint at 250), 2 episodes each."""
    np.savez(
        tmp_path / "evaluations.npz",
        timesteps=[100, 200, 300],
        results=[[400.0, 500.0], [300.0, 302.0], [600.0, 600.0]],
        ep_lengths=[[400, 500], [300, 302], [600, 600]],
        successes=[[False, True], [True, False], [True, True]],
    )


def test_a_resumed_run_continues_the_evaluations_up_to_its_checkpoint(tmp_path: Path):
    write_history(tmp_path)
    callback = resume_at_250(tmp_path, n_eval_episodes=2)
    saved = np.load(tmp_path / "evaluations.npz")
    assert saved["timesteps"].tolist() == [100, 200, 255]
    assert saved["results"][:2].tolist() == [[400.0, 500.0], [300.0, 302.0]]
    assert saved["ep_lengths"][:2].tolist() == [[400, 500], [300, 302]]
    assert callback.evaluations_successes == [[False, True], [True, False]]  # CartPole reports none
    # an untrained CartPole policy falls well short of 450: the best model stays the earlier one
    assert saved["results"][2].mean() < 450.0
    assert callback.best_mean_reward == 450.0 and not (tmp_path / "best_model.zip").exists()


def test_a_history_with_another_episode_count_is_kept_beside_the_new_one(tmp_path: Path):
    write_history(tmp_path)
    resume_at_250(tmp_path, n_eval_episodes=3)
    kept = np.load(tmp_path / "evaluations-until-300.npz")
    assert kept["timesteps"].tolist() == [100, 200, 300]
    saved = np.load(tmp_path / "evaluations.npz")
    assert saved["timesteps"].tolist() == [255] and saved["results"].shape == (1, 3)
    assert (tmp_path / "best_model.zip").exists()  # a fresh history: the first evaluation is the best


def test_a_new_run_starts_an_empty_history(tmp_path: Path):
    callback = resume_at_250(tmp_path, n_eval_episodes=2)
    assert np.load(tmp_path / "evaluations.npz")["timesteps"].tolist() == [255]
    assert callback.best_mean_reward == callback.last_mean_reward


@pytest.mark.parametrize("success", [False, True])
def test_the_best_win_rate_model_is_kept_by_win_rate_before_mean_reward(tmp_path: Path, success: bool):
    write_history(tmp_path)  # kept up to 250: win rates 0.5 (mean reward 450) and 0.5 (301)
    callback = resume_at_250(tmp_path, n_eval_episodes=2, success=success)
    last = np.load(tmp_path / "evaluations.npz")["results"][2].mean()
    assert last < 450.0 and not (tmp_path / "best_model.zip").exists()
    if success:  # 2 wins of 2 beat 1 of 2, however far below the mean reward
        assert callback.best_win_score == (1.0, last) and (tmp_path / "best_win_rate_model.zip").exists()
    else:
        assert callback.best_win_score == (0.5, 450.0) and not (tmp_path / "best_win_rate_model.zip").exists()


def test_a_new_run_keeps_its_first_win_rate_model(tmp_path: Path):
    callback = resume_at_250(tmp_path, n_eval_episodes=2, success=False)
    assert callback.best_win_score == (0.0, callback.last_mean_reward)
    assert (tmp_path / "best_win_rate_model.zip").exists()
