"""Double DQN: DQN whose bootstrap target lets the online network choose the next action."""

from __future__ import annotations

import functools
from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np
import torch as th
from stable_baselines3 import DQN
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.save_util import load_from_zip_file
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.dqn.policies import QNetwork
from torch.nn import functional as F

from sb3_mario.agent.averaging import average_copy, average_weight, update_average
from sb3_mario.agent.buffers import FrameDedupReplayBuffer, with_algorithm_gamma
from sb3_mario.agent.overlap import BackgroundUpdates, acting_copy, copy_weights
from sb3_mario.agent.policies import MarioCnnPolicy
from sb3_mario.errors import ConfigError

SelfDoubleDQN = TypeVar("SelfDoubleDQN", bound="DoubleDQN")


def double_q_target(
    next_q_online: th.Tensor,
    next_q_target: th.Tensor,
    rewards: th.Tensor,
    dones: th.Tensor,
    discounts: th.Tensor | float,
    epsilon: float = 0.0,
) -> th.Tensor:
    """The Double Q-learning target of van Hasselt, Guez and Silver (2016), eq. (4).

    ``y = r + discount * (1 - done) * Q_target(s', argmax_a Q_online(s', a))``

    DQN's target is ``max_a Q_target(s', a)``: the same network picks and rates the next action,
    which overestimates. Here the online network picks and the target network rates.

    With ``epsilon`` > 0 the next state is valued under the epsilon-greedy policy instead of the greedy
    one, as in Expected Sarsa (Sutton & Barto 2018, section 6.6), with the same two roles:
    ``(1 - epsilon) * Q_target(s', argmax_a Q_online(s', a)) + epsilon * mean_a Q_target(s', a)``.
    The values then count the cost of a random action at the next step, as a test that plays
    epsilon-greedy meets it, without random actions in the data.

    :param next_q_online: (batch, n_actions) online-network Q-values of the next observations
    :param next_q_target: (batch, n_actions) target-network Q-values of the next observations
    :param rewards: (batch, 1) rewards (n-step discounted sums with n-step replay)
    :param dones: (batch, 1) 1.0 where the episode terminated (not truncated)
    :param discounts: ``gamma``, or (batch, 1) ``gamma ** k`` from SB3's n-step replay buffer
    :param epsilon: the probability of a uniformly random next action in the policy the target values;
        0 (the default): the greedy policy, van Hasselt's target
    :return: (batch, 1) targets
    """
    if next_q_online.shape != next_q_target.shape or next_q_online.dim() != 2:
        raise ValueError(
            "next_q_online and next_q_target must both be (batch, n_actions), actual shapes: "
            f"{tuple(next_q_online.shape)} and {tuple(next_q_target.shape)}"
        )
    next_actions = next_q_online.argmax(dim=1, keepdim=True)  # (batch, 1)
    next_q = next_q_target.gather(1, next_actions)  # (batch, 1)
    if epsilon > 0:
        next_q = (1 - epsilon) * next_q + epsilon * next_q_target.mean(dim=1, keepdim=True)
    return rewards + (1 - dones) * discounts * next_q


class Updates(NamedTuple):
    """What one ``train()`` call's gradient steps give back: their losses and, with prioritized replay, each
    batch's slots and TD errors, whose priorities the calling thread sets (:meth:`DoubleDQN._record_updates`)."""

    losses: list[float]
    priorities: list[tuple[np.ndarray, np.ndarray]]


class DoubleDQN(DQN):
    """Double DQN (van Hasselt et al., 2016, https://arxiv.org/abs/1509.06461).

    SB3's :class:`~stable_baselines3.DQN` with only the bootstrap target changed (see
    :func:`double_q_target`): every DQN keyword, default and behaviour is kept, n-step replay
    included. ``train()`` follows ``stable_baselines3.dqn.DQN.train`` of SB3 2.9.2 line for line
    except for the target and one reordering: it samples the call's batches first (the same draws
    in the same order), then takes the gradient steps (``_gradient_steps``), so that these can run
    on a worker thread. With a prioritized buffer (``FrameDedupReplayBuffer(priority_alpha=...)``) the
    loss weighs each sample by its importance weight and the TD errors become the sampled transitions'
    priorities (Schaul et al. 2016), set when the call's updates are recorded: at once in SB3's loop, and with
    ``overlap_updates`` in the training thread when it takes the worker's result, never while the envs add
    transitions (whose priority is the largest so far), so that a seed repeats its run in both loops.
    Zips load with ``DoubleDQN.load`` and with ``DQN.load``.

    Also accepts the policy name ``"MarioCnnPolicy"`` (the tutorial's network, see
    :class:`~sb3_mario.agent.policies.MarioCNN`).

    :param overlap_updates: run each ``train()`` call's gradient steps on a worker thread while the
        next env steps are collected, acting with weights at most one ``train()`` call old
        (:mod:`sb3_mario.agent.overlap`). False by default: SB3's synchronous loop.
    :param average_tau: keep ``q_net_average``, an exponential moving average of the online network's
        weights with this ``tau`` per gradient step (0.005 in SR-SPR and BBF), which evaluations play
        beside the online network (:mod:`sb3_mario.agent.averaging`). It changes nothing in training and
        is saved with the model, which then loads with ``DoubleDQN.load`` only (``sb3-mario export
        --average`` writes a zip of the average that ``DQN.load`` reads). 0 by default: none.
    :param mixed_precision: run the gradient steps' passes through the features extractor under
        ``torch.autocast`` with bfloat16 (the Q head, the targets, the loss and the weights stay float32;
        no loss scaling is needed with bfloat16's float32 range). On a 2-core CPU with AVX512-BF16 an update
        was 1.8x faster and SB3's loop 1.17x, with no gain measurable beside ``overlap_updates``
        (docs/benchmarks.md); CPUs without native bfloat16 run it emulated, slower. Acting, evaluation and
        ``predict`` stay float32. False by default: float32 throughout, as SB3.
    :param double_q: the Double Q target. False takes DQN's, ``max_a Q_target(s', a)``, with everything
        else of this class kept (overlapped updates, prioritized replay, the average of weights), so that
        a comparison of the two targets changes nothing else; without those options it trains exactly as
        SB3's ``DQN`` (``tests/test_double_dqn.py``), one forward pass per update lighter. True by default.
    :param target_epsilon: value the next state under the epsilon-greedy policy with this epsilon, in
        either target (:func:`double_q_target`): the values of a policy that a random action may
        interrupt, as ``evaluate --epsilon`` plays it. 0 by default: the greedy policy, the paper's target.
    :param args: and ``kwargs``: those of :class:`~stable_baselines3.DQN`
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        **DQN.policy_aliases,
        "MarioCnnPolicy": MarioCnnPolicy,
    }

    def __init__(
        self,
        *args: Any,
        overlap_updates: bool = False,
        average_tau: float = 0.0,
        mixed_precision: bool = False,
        double_q: bool = True,
        target_epsilon: float = 0.0,
        **kwargs: Any,
    ):
        self.overlap_updates = overlap_updates
        self.average_tau = average_tau
        self.mixed_precision = mixed_precision
        self.double_q = double_q
        self.target_epsilon = target_epsilon
        self.q_net_average: th.nn.Module | None = None
        self._averaged_updates = 0  # the updates folded into q_net_average
        self._updates: BackgroundUpdates | None = None
        self._actor: th.nn.Module | None = None
        super().__init__(*args, **kwargs)

    def _setup_model(self) -> None:
        # here, not in __init__: load() sets average_tau (the saved one, or a new one given to it) before this
        if not 0.0 <= self.average_tau <= 1.0:
            raise ConfigError(f"average_tau must be in [0, 1] (0: no average), actual value: {self.average_tau}")
        if not 0.0 <= self.target_epsilon <= 1.0:
            raise ConfigError(
                f"target_epsilon must be in [0, 1] (0: the greedy target), actual value: {self.target_epsilon}"
            )
        if isinstance(self.replay_buffer_class, type) and issubclass(self.replay_buffer_class, FrameDedupReplayBuffer):
            # n-step sums with this algorithm's gamma, as SB3 does for its own n-step buffer
            self.replay_buffer_kwargs = with_algorithm_gamma(self.replay_buffer_kwargs, self.gamma)
        super()._setup_model()
        if self.average_tau > 0:
            self.q_net_average = average_copy(self.q_net)

    def _update_average(self) -> None:
        """Fold the updates recorded since the last call into ``q_net_average``."""
        if self.q_net_average is not None and self._n_updates > self._averaged_updates:
            weight = average_weight(self.average_tau, self._n_updates - self._averaged_updates)
            update_average(self.q_net_average, self.q_net, weight)
        self._averaged_updates = self._n_updates

    def learn(self: SelfDoubleDQN, *args: Any, **kwargs: Any) -> SelfDoubleDQN:
        if not self.overlap_updates:
            return super().learn(*args, **kwargs)
        self._actor = acting_copy(self.q_net)  # before the wait hook goes on q_net: the copy must not wait
        self._updates = BackgroundUpdates(self.q_net)
        try:
            return super().learn(*args, **kwargs)
        finally:
            updates, self._updates, self._actor = self._updates, None, None
            self._record_updates(updates.close())

    def _sample_action(
        self, learning_starts: int, action_noise: ActionNoise | None = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        if self._actor is None:
            return super()._sample_action(learning_starts, action_noise, n_envs)
        learner, self.policy.q_net = self.policy.q_net, self._actor  # act with the weights of the last train()
        try:
            return super()._sample_action(learning_starts, action_noise, n_envs)
        finally:
            self.policy.q_net = learner

    def _on_step(self) -> None:
        # DQN._on_step's condition: the target network is about to copy the online one
        if self._updates is not None and (self._n_calls + 1) % max(self.target_update_interval // self.n_envs, 1) == 0:
            self._record_updates(self._updates.result())
        super()._on_step()

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        if self._updates is not None:
            self._record_updates(self._updates.result())
            copy_weights(self.q_net, self._actor)  # the next collection acts with these weights
        self._update_average()  # here, where no update is in flight in either loop
        # Switch to train mode (this affects batch norm / dropout)
        self.policy.set_training_mode(True)
        # Update learning rate according to schedule
        self._update_learning_rate(self.policy.optimizer)
        # Sample replay buffer: every batch of this call first, drawing the random stream as SB3 does
        batches = [
            self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            for _ in range(gradient_steps)
        ]
        updates = functools.partial(self._gradient_steps, batches, list(self.policy.parameters()))
        if self._updates is None:
            self._record_updates(updates())
        else:
            self._updates.start(updates)

    def _gradient_steps(self, batches: list[ReplayBufferSamples], parameters: list[th.nn.Parameter]) -> Updates:
        """One gradient step per batch (the worker thread's work with ``overlap_updates``): their losses, and
        the TD errors of prioritized batches."""
        losses, priorities = [], []
        for replay_data in batches:
            # For n-step replay, discount factor is gamma**n_steps (when no early termination)
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma

            with th.no_grad():
                next_q_target = self._q_values(self.q_net_target, replay_data.next_observations)
                # Double Q target: the online net picks the next action, the target net rates it;
                # DQN's (double_q False): the target net picks and rates, its max
                next_q_picker = (
                    self._q_values(self.q_net, replay_data.next_observations) if self.double_q else next_q_target
                )
                target_q_values = double_q_target(
                    next_q_picker, next_q_target, replay_data.rewards, replay_data.dones, discounts, self.target_epsilon
                )

            # Get current Q-values estimates
            current_q_values = self._q_values(self.q_net, replay_data.observations)

            # Retrieve the q-values for the actions from the replay buffer
            current_q_values = th.gather(current_q_values, dim=1, index=replay_data.actions.long())

            # Compute Huber loss (less sensitive to outliers)
            weights = getattr(replay_data, "weights", None)
            if weights is None:
                loss = F.smooth_l1_loss(current_q_values, target_q_values)
            else:  # prioritized replay: importance-weighted, and the TD errors become the new priorities
                loss = (weights * F.smooth_l1_loss(current_q_values, target_q_values, reduction="none")).mean()
                priorities.append((replay_data.slots, (target_q_values - current_q_values).detach().cpu().numpy()))
            losses.append(loss.item())

            # Optimize the policy
            self.policy.optimizer.zero_grad()
            loss.backward()
            # Clip gradient norm
            th.nn.utils.clip_grad_norm_(parameters, self.max_grad_norm)
            self.policy.optimizer.step()
        return Updates(losses, priorities)

    def _q_values(self, q_net: QNetwork, observations: th.Tensor) -> th.Tensor:
        """``q_net(observations)``, its features under bfloat16 autocast with ``mixed_precision``."""
        if not self.mixed_precision:
            return q_net(observations)
        with th.autocast(self.device.type, dtype=th.bfloat16):
            features = q_net.extract_features(observations, q_net.features_extractor)
        return q_net.q_net(features.float())

    def _record_updates(self, updates: Updates | None) -> None:
        """Count and log one ``train()`` call's updates and set the priorities of its batches (``None``: already
        recorded)."""
        if updates is None:
            return
        losses = updates.losses
        for slots, td_errors in updates.priorities:
            self.replay_buffer.update_priorities(slots, td_errors)  # type: ignore[union-attr]
        # Increase update counter
        self._n_updates += len(losses)

        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        if losses:
            self.logger.record("train/loss", np.mean(losses))

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._updates is not None:
            self._record_updates(self._updates.result())
        super().save(*args, **kwargs)

    def get_parameters(self) -> dict[str, dict]:
        if self._updates is not None:
            self._updates.join()
        return super().get_parameters()

    def set_parameters(
        self, load_path_or_dict: str | dict[str, Any], exact_match: bool = True, device: th.device | str = "auto"
    ) -> None:
        """SB3's, and an average of weights follows ``average_tau`` rather than the saved model: a model
        saved without one starts it from its loaded weights, one saved with it drops it at 0."""
        if self._updates is not None:
            self._updates.join()
        if not isinstance(load_path_or_dict, dict):
            _, load_path_or_dict, _ = load_from_zip_file(load_path_or_dict, device=device, load_data=False)
        params = dict(load_path_or_dict)
        saved_average = params.pop("q_net_average", None)
        start_average = self.q_net_average is not None and saved_average is None
        if self.q_net_average is not None and saved_average is not None:
            params["q_net_average"] = saved_average
        super().set_parameters(params, exact_match=exact_match and not start_average, device=device)
        if start_average:
            copy_weights(self.q_net, self.q_net_average)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_updates", "_actor", "q_net_average"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, variables = super()._get_torch_save_params()
        if self.q_net_average is not None:
            state_dicts = [*state_dicts, "q_net_average"]
        return state_dicts, variables
