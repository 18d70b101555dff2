"""Double DQN: DQN whose bootstrap target lets the online network choose the next action."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch as th
from stable_baselines3 import DQN
from stable_baselines3.common.policies import BasePolicy
from torch.nn import functional as F

from sb3_mario.agent.policies import MarioCnnPolicy


def double_q_target(
    next_q_online: th.Tensor,
    next_q_target: th.Tensor,
    rewards: th.Tensor,
    dones: th.Tensor,
    discounts: th.Tensor | float,
) -> th.Tensor:
    """The Double Q-learning target of van Hasselt, Guez and Silver (2016), eq. (4).

    ``y = r + discount * (1 - done) * Q_target(s', argmax_a Q_online(s', a))``

    DQN's target is ``max_a Q_target(s', a)``: the same network picks and rates the next action,
    which overestimates. Here the online network picks and the target network rates.

    :param next_q_online: (batch, n_actions) online-network Q-values of the next observations
    :param next_q_target: (batch, n_actions) target-network Q-values of the next observations
    :param rewards: (batch, 1) rewards (n-step discounted sums with n-step replay)
    :param dones: (batch, 1) 1.0 where the episode terminated (not truncated)
    :param discounts: ``gamma``, or (batch, 1) ``gamma ** k`` from SB3's n-step replay buffer
    :return: (batch, 1) targets
    """
    if next_q_online.shape != next_q_target.shape or next_q_online.dim() != 2:
        raise ValueError(
            "next_q_online and next_q_target must both be (batch, n_actions), actual shapes: "
            f"{tuple(next_q_online.shape)} and {tuple(next_q_target.shape)}"
        )
    next_actions = next_q_online.argmax(dim=1, keepdim=True)  # (batch, 1)
    next_q = next_q_target.gather(1, next_actions)  # (batch, 1)
    return rewards + (1 - dones) * discounts * next_q


class DoubleDQN(DQN):
    """Double DQN (van Hasselt et al., 2016, https://arxiv.org/abs/1509.06461).

    SB3's :class:`~stable_baselines3.DQN` with only the bootstrap target changed (see
    :func:`double_q_target`): every DQN keyword, default and behaviour is kept, n-step replay
    included. ``train()`` follows ``stable_baselines3.dqn.DQN.train`` of SB3 2.9.2 line for line
    except for the target. Zips load with ``DoubleDQN.load`` and with ``DQN.load``.

    Also accepts the policy name ``"MarioCnnPolicy"`` (the tutorial's network, see
    :class:`~sb3_mario.agent.policies.MarioCNN`).
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        **DQN.policy_aliases,
        "MarioCnnPolicy": MarioCnnPolicy,
    }

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        # Switch to train mode (this affects batch norm / dropout)
        self.policy.set_training_mode(True)
        # Update learning rate according to schedule
        self._update_learning_rate(self.policy.optimizer)

        losses = []
        for _ in range(gradient_steps):
            # Sample replay buffer
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            # For n-step replay, discount factor is gamma**n_steps (when no early termination)
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma

            with th.no_grad():
                # Double Q target: the online net picks the next action, the target net rates it
                target_q_values = double_q_target(
                    self.q_net(replay_data.next_observations),
                    self.q_net_target(replay_data.next_observations),
                    replay_data.rewards,
                    replay_data.dones,
                    discounts,
                )

            # Get current Q-values estimates
            current_q_values = self.q_net(replay_data.observations)

            # Retrieve the q-values for the actions from the replay buffer
            current_q_values = th.gather(current_q_values, dim=1, index=replay_data.actions.long())

            # Compute Huber loss (less sensitive to outliers)
            loss = F.smooth_l1_loss(current_q_values, target_q_values)
            losses.append(loss.item())

            # Optimize the policy
            self.policy.optimizer.zero_grad()
            loss.backward()
            # Clip gradient norm
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()

        # Increase update counter
        self._n_updates += gradient_steps

        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", np.mean(losses))
