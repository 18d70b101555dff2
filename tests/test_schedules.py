"""LearningRateDecay: the learning rate holds, then falls linearly to 0 at the budget."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.needs_torch

pytest.importorskip("torch")
from stable_baselines3 import DQN  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback, CallbackList  # noqa: E402
from stable_baselines3.common.utils import LinearSchedule  # noqa: E402

from sb3_mario import DoubleDQN  # noqa: E402
from sb3_mario.agent.schedules import FallingTail, LearningRateDecay  # noqa: E402
from sb3_mario.run.config import build_callbacks  # noqa: E402
from tests.conftest import VectorEnv  # noqa: E402


def test_the_tail_falls_linearly_to_zero_over_its_fraction():
    tail = FallingTail(lambda _: 1e-3, 0.5)
    assert [tail(p) for p in (1.0, 0.75, 0.5, 0.25, 0.1, 0.0)] == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4, 2e-4, 0.0])
    on_linear = FallingTail(LinearSchedule(1e-3, 0.0, 1.0), 0.5)  # times the base's own value
    assert [on_linear(p) for p in (1.0, 0.5, 0.25)] == pytest.approx([1e-3, 5e-4, 1.25e-4])
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\], actual value: 0"):
        LearningRateDecay(0)


class _Seen(BaseCallback):
    """The optimizer's learning rate at each env step: the one the last train() set."""

    def __init__(self):
        super().__init__()
        self.seen: list[tuple[int, float]] = []

    def _on_step(self) -> bool:
        self.seen.append((self.num_timesteps, self.model.policy.optimizer.param_groups[0]["lr"]))
        return True


class _StopAt(BaseCallback):
    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps

    def _on_step(self) -> bool:
        return self.num_timesteps < self.steps


@pytest.mark.parametrize("algo", [DoubleDQN, DQN])
def test_updates_use_the_held_then_falling_rate_over_the_budget_resumes_included(algo):
    """A 100-step budget learnt in two calls (stopped at 60, then resumed): the update after step t
    uses 1e-3 * min(1, (1 - t / 100) / 0.5), and the second call wraps the model's schedule once."""
    model = algo("MlpPolicy", VectorEnv(), learning_rate=1e-3, learning_starts=10, train_freq=1, seed=0, device="cpu")
    decay, seen = LearningRateDecay(0.5), _Seen()
    model.learn(100, callback=CallbackList([seen, decay, _StopAt(60)]))  # a run of 100 steps, stopped at 60
    model.learn(40, callback=CallbackList([seen, decay]), reset_num_timesteps=False)  # its resume, as sb3-mario's
    assert isinstance(model.lr_schedule, FallingTail) and not isinstance(model.lr_schedule.base, FallingTail)
    # step t + 1 sees the rate of the update after step t (updates from step 11 on; the stop at step 60
    # came before its update, so step 61 sees step 59's)
    assert [step for step, _ in seen.seen] == list(range(1, 101))
    for (_, rate), step in zip(seen.seen[11:], range(11, 100), strict=True):
        updated = 59 if step == 60 else step
        assert rate == pytest.approx(1e-3 * min(1.0, (1 - updated / 100) / 0.5)), step
    assert seen.seen[49][1] == pytest.approx(1e-3) and seen.seen[90][1] == pytest.approx(1e-3 * 0.2)


def test_a_preset_names_it_as_a_callback():
    (callback,) = build_callbacks([{"sb3_mario.agent.schedules.LearningRateDecay": {"fraction": 0.2}}])
    assert isinstance(callback, LearningRateDecay) and callback.fraction == 0.2
