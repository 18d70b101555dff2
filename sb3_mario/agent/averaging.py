"""An exponential moving average of a network's weights, kept beside it.

SR-SPR (D'Oro et al. 2023) and BBF (Schwarzer et al. 2023) act with such an average, updated with
``tau = 0.005`` per gradient step, against policy churn: the greedy action of DQN's online network
changes in many states within a few updates (Schaul et al. 2022), so greedy evaluations of it swing
from checkpoint to checkpoint. :class:`~sb3_mario.agent.double_dqn.DoubleDQN` keeps one with
``average_tau > 0`` and its evaluations play it beside the online network.
"""

from __future__ import annotations

import copy

import torch as th
from torch import nn


def average_copy(network: nn.Module) -> nn.Module:
    """The average's start: a copy of ``network`` without gradients."""
    return copy.deepcopy(network).requires_grad_(False)


def average_weight(tau: float, n_updates: int) -> float:
    """The weight of the online network when ``n_updates`` gradient steps are folded in at once.

    ``n`` averaging steps ``a <- (1 - tau) a + tau w`` with the same ``w`` leave
    ``a <- (1 - tau)**n a + (1 - (1 - tau)**n) w``. The average is updated once per ``train()`` call
    with the weights its gradient steps ended with, so per-step averaging differs only in giving
    those steps (2 in the ``ddqn`` preset) their own intermediate weights.
    """
    return 1.0 - (1.0 - tau) ** n_updates


def update_average(average: nn.Module, source: nn.Module, weight: float) -> None:
    """``average <- (1 - weight) * average + weight * source``, parameters and floating buffers, in place."""
    with th.no_grad():
        targets, sources = [], []
        for a, s in zip(average.state_dict().values(), source.state_dict().values(), strict=True):
            if a.is_floating_point():
                targets.append(a)
                sources.append(s)
            else:
                a.copy_(s)  # counters and the like are not averaged
        if targets:
            th._foreach_lerp_(targets, sources, weight)
