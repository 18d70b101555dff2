"""A learning rate that holds, then falls to 0 over the end of the run.

rl_zoo3 writes a learning-rate schedule as ``lin_<start>`` (a linear fall from the first step) or a number.
:class:`LearningRateDecay` is a callback, as the tutorial's :class:`~sb3_mario.agent.exploration.ExponentialEpsilon`
is, so that a preset can keep its learning rate for most of the run and anneal it at the end, with stock
``DQN`` and ``DoubleDQN``, in ``sb3-mario train`` and in rl_zoo3's scripts alike.
"""

from __future__ import annotations

from collections.abc import Callable

from stable_baselines3.common.callbacks import BaseCallback


class FallingTail:
    """A SB3 schedule: ``base`` times ``min(1, progress_remaining / fraction)``.

    ``progress_remaining`` goes from 1 at the run's first step to 0 at its budget, so the value is
    ``base``'s until the last ``fraction`` of the run, then falls linearly to 0 at the budget.
    """

    def __init__(self, base: Callable[[float], float], fraction: float):
        self.base = base
        self.fraction = fraction

    def __call__(self, progress_remaining: float) -> float:
        return self.base(progress_remaining) * min(1.0, max(progress_remaining, 0.0) / self.fraction)


class LearningRateDecay(BaseCallback):
    """Make the model's learning rate fall linearly to 0 over the last ``fraction`` of the run's budget.

    Until then the model's own schedule (its ``learning_rate``) applies. Dopamine offers the same
    annealing of the step size at the end of training, and a smaller learning rate late in training is
    what steadied the greedy play of the first 1-1 model (docs/results.md, History). The budget is the
    run's ``n_timesteps``, resumes included (SB3's ``progress_remaining``).

    :param fraction: the part of the budget over which the rate falls, in (0, 1]
    """

    def __init__(self, fraction: float = 0.5, verbose: int = 0):
        super().__init__(verbose)
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must be in (0, 1], actual value: {fraction}")
        self.fraction = fraction

    def _on_training_start(self) -> None:
        schedule = self.model.lr_schedule
        if isinstance(schedule, FallingTail):  # already annealed: by this callback in an earlier learn()
            schedule = schedule.base
        self.model.lr_schedule = FallingTail(schedule, self.fraction)

    def _on_step(self) -> bool:
        return True
