"""The tutorial's exploration schedule: epsilon multiplied by a constant after every update.

SB3's DQN only has a linear schedule. :class:`ExponentialEpsilon` reproduces the tutorial's
``exploration_rate *= exploration_decay`` (floored at ``exploration_min``) as a callback, so it
works with stock ``DQN`` as well as ``DoubleDQN``.
"""

from __future__ import annotations

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.dqn import DQN


class HeldValue:
    """A SB3 schedule that returns whatever value was last stored in it."""

    def __init__(self, value: float):
        self.value = value

    def __call__(self, progress_remaining: float) -> float:
        return self.value


def exponential_epsilon(num_timesteps: int, initial: float, decay: float, final: float, learning_starts: int) -> float:
    """Epsilon after ``num_timesteps`` env steps with one update per step after ``learning_starts``.

    ``max(final, initial * decay ** max(0, num_timesteps - learning_starts))``: the tutorial's
    agent updates once per env step as soon as 32 transitions are stored and multiplies epsilon
    by ``decay`` after each update.
    """
    return max(final, initial * decay ** max(0, num_timesteps - learning_starts))


class ExponentialEpsilon(BaseCallback):
    """Drive a DQN's epsilon with :func:`exponential_epsilon` instead of SB3's linear schedule.

    Start and floor are the model's own ``exploration_initial_eps`` and ``exploration_final_eps``,
    the update count comes from ``learning_starts``; only ``decay`` is given here. The callback
    runs in ``collect_rollouts`` just before ``DQN._on_step`` reads the schedule, so the value set
    after step ``t`` is the epsilon of action ``t + 1``, as in the tutorial.

    :param decay: factor applied after each update, 0.99 in the tutorial
    """

    def __init__(self, decay: float = 0.99, verbose: int = 0):
        super().__init__(verbose)
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], actual value: {decay}")
        self.decay = decay
        self._schedule = HeldValue(1.0)

    def _epsilon(self) -> float:
        model = self.model
        assert isinstance(model, DQN)
        return exponential_epsilon(
            model.num_timesteps,
            model.exploration_initial_eps,
            self.decay,
            model.exploration_final_eps,
            model.learning_starts,
        )

    def _on_training_start(self) -> None:
        if not isinstance(self.model, DQN):
            raise TypeError(f"ExponentialEpsilon needs a DQN or DoubleDQN, actual: {type(self.model).__name__}")
        self._schedule.value = self._epsilon()
        self.model.exploration_schedule = self._schedule
        self.model.exploration_rate = self._schedule.value

    def _on_step(self) -> bool:
        self._schedule.value = self._epsilon()
        return True
