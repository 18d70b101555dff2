"""The article preset's epsilon follows the tutorial's formula step by step."""

from __future__ import annotations

import gymnasium as gym
import pytest

pytestmark = pytest.mark.needs_torch

pytest.importorskip("torch")
from stable_baselines3 import DQN  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402

from sb3_mario import DoubleDQN  # noqa: E402
from sb3_mario.agent.exploration import ExponentialEpsilon, exponential_epsilon  # noqa: E402
from sb3_mario.agent.presets import get_preset  # noqa: E402
from sb3_mario.run.config import build_callbacks  # noqa: E402


def tutorial_epsilons(steps: int, batch_size: int = 32) -> list[float]:
    """The epsilon each of the tutorial's actions used, from its act()/remember()/experience_replay()."""
    exploration_rate, exploration_decay, exploration_min = 1.0, 0.99, 0.02
    num_in_queue, used = 0, []
    for _ in range(steps):
        used.append(exploration_rate)  # act()
        num_in_queue += 1  # remember()
        if batch_size > num_in_queue:  # experience_replay(): nothing to learn from yet
            continue
        exploration_rate *= exploration_decay  # after the update
        exploration_rate = max(exploration_rate, exploration_min)
    return used


class _Used(BaseCallback):
    """Runs before the schedule callback: sees the epsilon of the action just taken."""

    def __init__(self):
        super().__init__()
        self.used: list[float] = []

    def _on_step(self) -> bool:
        self.used.append(self.model.exploration_rate)
        return True


@pytest.mark.parametrize("algo", [DQN, DoubleDQN])
def test_article_schedule_matches_tutorial_step_by_step(algo):
    preset = get_preset("article")
    keys = ("learning_starts", "exploration_initial_eps", "exploration_final_eps", "train_freq", "gradient_steps")
    model = algo(
        "MlpPolicy", gym.make("CartPole-v1"), buffer_size=1000, seed=0, device="cpu", **{k: preset[k] for k in keys}
    )
    used = _Used()
    model.learn(600, callback=[used, *build_callbacks(preset["callback"])])
    expected = tutorial_epsilons(600)
    # SB3 acts uniformly at random before learning_starts, which is epsilon = 1 as in the tutorial
    assert used.used[31:] == pytest.approx(expected[31:], rel=1e-12)
    assert expected[:32] == [1.0] * 32 and expected[-1] == 0.02
    assert model._n_updates == 600 - 31


def test_formula_values():
    assert exponential_epsilon(31, 1.0, 0.99, 0.02, 31) == 1.0
    assert exponential_epsilon(33, 1.0, 0.99, 0.02, 31) == pytest.approx(0.99**2)
    assert exponential_epsilon(10_000, 1.0, 0.99, 0.02, 31) == 0.02
    with pytest.raises(ValueError, match=r"decay must be in \(0, 1\], actual value: 1.5"):
        ExponentialEpsilon(decay=1.5)
