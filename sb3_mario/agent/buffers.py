"""A replay buffer that stores each frame of stacked observations once, with optional n-step returns,
random shifts of the sampled observations and prioritized sampling."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import BaseBuffer, ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from sb3_mario.agent.augmentation import random_shift
from sb3_mario.agent.sum_tree import SumTree
from sb3_mario.errors import ConfigError


def with_algorithm_gamma(buffer_kwargs: dict[str, Any] | None, gamma: float) -> dict[str, Any]:
    """A copy of n-step ``replay_buffer_kwargs`` whose sums discount with the algorithm's ``gamma``.

    SB3 gives the algorithm's ``gamma`` to its own ``NStepReplayBuffer`` only; a buffer class given by
    name gets what its kwargs say, 0.99 by default. Here the algorithm's is filled in when ``n_steps > 1``
    and no ``gamma`` is given (one-step kwargs come back as they are).

    :raises ConfigError: when the kwargs give a ``gamma`` other than the algorithm's
    """
    kwargs = dict(buffer_kwargs or {})
    if kwargs.get("n_steps", 1) <= 1:
        return kwargs
    if kwargs.setdefault("gamma", gamma) != gamma:
        raise ConfigError(
            f"replay_buffer_kwargs gamma must equal the algorithm's gamma ({gamma}), "
            f"actual value: {kwargs['gamma']} (leave it out: the algorithm's is used)"
        )
    return kwargs


class PrioritizedSamples(NamedTuple):
    """SB3's ``ReplayBufferSamples`` and, for prioritized replay, each sample's importance weight and its
    slot (``index * n_envs + env``), which ``FrameDedupReplayBuffer.update_priorities`` takes back."""

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    discounts: th.Tensor | None
    weights: th.Tensor
    slots: np.ndarray


class FrameDedupReplayBuffer(ReplayBuffer):
    """SB3's ``ReplayBuffer`` for frame-stacked observations, storing one frame per transition.

    With a stack of 4, consecutive observations share 3 frames and ``next_obs`` shares 3 with
    ``obs``: SB3 stores 8 frames per transition (4 with ``optimize_memory_usage``). Here only the
    newest frame of ``next_obs`` is stored; stacks are rebuilt on sampling from the preceding
    transitions of the same env, as Dopamine's replay memory does. The first transition of each
    episode also keeps its full ``obs`` (whatever the env's padding), and so does the oldest
    transition left when the ring overwrites its predecessor. Sampled batches are exactly those of
    SB3's ``ReplayBuffer`` (without ``optimize_memory_usage``) on the same data and random state.

    With ``n_steps > 1`` it samples n-step returns exactly as SB3's ``NStepReplayBuffer`` does: the
    discounted sum of up to ``n_steps`` rewards, stopping at the episode's end, the observation
    after the last of them, and ``discounts = gamma ** k`` for the bootstrap (``DQN.train`` and
    ``DoubleDQN.train`` use it). SB3 sets up n-step returns only for its own buffer, so give them
    through ``replay_buffer_kwargs``: ``{"n_steps": 3}`` to ``DoubleDQN`` and in sb3-mario's configs,
    which add the algorithm's ``gamma`` (:func:`with_algorithm_gamma`; ``{"n_steps": 3, "gamma": 0.9}``
    with SB3's ``DQN`` alone).

    With ``shift_pad > 0`` every sampled ``obs`` and ``next_obs`` is shifted by up to that many pixels
    (DrQ's augmentation, :func:`~sb3_mario.agent.augmentation.random_shift`), each by its own draw; the
    batch is otherwise the same as without.

    With ``priority_alpha > 0`` transitions are drawn in proportion to ``priority ** alpha``
    (proportional prioritized replay, Schaul et al. 2016; a :class:`~sb3_mario.agent.sum_tree.SumTree`,
    stratified draws from ``np.random``), a new transition with the largest priority seen so far, and a
    batch is :class:`PrioritizedSamples`: importance weights ``(N * P(i)) ** -beta`` divided by the batch's
    largest, and the slots whose priorities :meth:`update_priorities` sets from the TD errors
    (``DoubleDQN`` does both; SB3's ``DQN`` would ignore them).

    For 84x84 frames that is 7,056 bytes per transition plus the episode starts, against 56,448
    (SB3 default) and 28,224 (``optimize_memory_usage``). See ``docs/benchmarks.md``.

    :param buffer_size: transitions kept, over all envs (as SB3)
    :param observation_space: a ``(stack, height, width)`` Box, stack first (as ``make_mario_env`` gives)
    :param action_space: the action space
    :param device: torch device of the sampled tensors
    :param n_envs: number of parallel envs
    :param optimize_memory_usage: must be False: frames are already deduplicated
    :param handle_timeout_termination: as SB3: truncated episodes bootstrap
    :param n_steps: rewards summed per sampled transition; 1 (default) is one-step replay, as SB3's
        ``ReplayBuffer``
    :param gamma: discount of the n-step sums; 0.99 by default, as SB3's ``NStepReplayBuffer``
    :param shift_pad: the largest random shift of sampled observations, in pixels (DrQ on Atari: 4);
        0 (default) samples them as stored
    :param priority_alpha: how much priorities count: 0 (default) draws uniformly, as SB3; 0.5 in Rainbow
        (Hessel et al. 2018) and Dopamine
    :param priority_beta: exponent of the importance weights; 0.5 as Dopamine's Rainbow, whose loss
        weights are ``1 / sqrt(P(i))`` (Schaul et al. anneal it from 0.4 to 1)
    """

    # here too, for buffers pickled before the keywords existed
    shift_pad: int = 0
    priority_alpha: float = 0.0
    #: added to each |TD error| so that no transition's priority falls to 0
    PRIORITY_EPS = 1e-6

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        n_steps: int = 1,
        gamma: float = 0.99,
        shift_pad: int = 0,
        priority_alpha: float = 0.0,
        priority_beta: float = 0.5,
    ):
        if not isinstance(observation_space, spaces.Box) or len(observation_space.shape) != 3:
            raise ValueError(
                f"FrameDedupReplayBuffer needs a (stack, height, width) Box, actual space: {observation_space}"
            )
        if optimize_memory_usage:
            raise ValueError("FrameDedupReplayBuffer already stores each frame once: use optimize_memory_usage=False")
        if n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, actual value: {n_steps}")
        if not 0 <= shift_pad < min(observation_space.shape[1:]):
            raise ValueError(f"shift_pad must be in [0, {min(observation_space.shape[1:])}), actual value: {shift_pad}")
        if not 0.0 <= priority_alpha <= 1.0 or not 0.0 <= priority_beta <= 1.0:
            raise ValueError(
                f"priority_alpha and priority_beta must be in [0, 1], actual values: {priority_alpha}, {priority_beta}"
            )
        BaseBuffer.__init__(self, buffer_size, observation_space, action_space, device, n_envs=n_envs)
        self.buffer_size = max(buffer_size // n_envs, 1)
        self.optimize_memory_usage = False
        self.handle_timeout_termination = handle_timeout_termination
        self.stack = self.obs_shape[0]
        self.n_steps = n_steps
        self.gamma = gamma
        self.shift_pad = shift_pad
        size = (self.buffer_size, self.n_envs)
        self.frames = np.zeros((*size, *self.obs_shape[1:]), dtype=observation_space.dtype)  # newest of next_obs
        self.is_start = np.zeros(size, dtype=bool)
        self.starts: dict[tuple[int, int], np.ndarray] = {}  # full obs of start transitions
        self.actions = np.zeros((*size, self.action_dim), dtype=self._maybe_cast_dtype(action_space.dtype))
        self.rewards = np.zeros(size, dtype=np.float32)
        self.dones = np.zeros(size, dtype=np.float32)
        self.timeouts = np.zeros(size, dtype=np.float32)
        self._last_next: list[np.ndarray | None] = [None] * self.n_envs
        self.priority_alpha = priority_alpha
        self.priority_beta = priority_beta
        if priority_alpha > 0:
            self.priorities = SumTree(self.buffer_size * self.n_envs)  # slot i * n_envs + e: ``priority ** alpha``
            self.max_priority = 1.0

    def _next_obs(self, i: int, e: int) -> np.ndarray:
        """Rebuild ``next_obs`` of transition ``i`` of env ``e``."""
        frames = []
        j = i
        for _ in range(self.stack):
            frames.append(self.frames[j, e])
            if self.is_start[j, e]:
                break
            j = (j - 1) % self.buffer_size
        frames.reverse()
        if len(frames) == self.stack:
            return np.stack(frames)
        return np.concatenate([self.starts[(j, e)][len(frames) :], np.stack(frames)])

    def _obs(self, i: int, e: int) -> np.ndarray:
        """Rebuild ``obs`` of transition ``i`` of env ``e``."""
        if self.is_start[i, e]:
            return self.starts[(i, e)]
        return self._next_obs((i - 1) % self.buffer_size, e)

    def _set_start(self, i: int, e: int, obs: np.ndarray) -> None:
        self.starts[(i, e)] = np.array(obs, dtype=self.frames.dtype)
        self.is_start[i, e] = True

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        pos = self.pos
        for e in range(self.n_envs):
            if self.full:
                # transition pos is overwritten: the next one, now the oldest, keeps its own obs
                oldest = (pos + 1) % self.buffer_size
                if not self.is_start[oldest, e] and oldest != pos:
                    self._set_start(oldest, e, self._obs(oldest, e))
                self.starts.pop((pos, e), None)
                self.is_start[pos, e] = False
            last = self._last_next[e]
            if last is None or not np.array_equal(last, obs[e]):  # a new episode (or a break in the chain)
                self._set_start(pos, e, obs[e])
            self.frames[pos, e] = next_obs[e, -1]
            self._last_next[e] = np.array(next_obs[e])
        if self.priority_alpha > 0:
            self.priorities.set(pos * self.n_envs + np.arange(self.n_envs), self.max_priority**self.priority_alpha)
        self.actions[pos] = np.array(action).reshape((self.n_envs, self.action_dim))
        self.rewards[pos] = np.array(reward)
        self.dones[pos] = np.array(done)
        if self.handle_timeout_termination:
            self.timeouts[pos] = np.array([info.get("TimeLimit.truncated", False) for info in infos])
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full = True
            self.pos = 0

    def _stacks(self, inds: np.ndarray, env_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``obs`` of transitions ``inds`` and ``next_obs`` of the same transitions, batched."""
        # windows of frame indices, oldest first: next_obs uses i-stack+1 .. i, obs one earlier
        window = (inds[:, None] - np.arange(self.stack, -1, -1)[None, :]) % self.buffer_size
        frames = self.frames[window, env_indices[:, None]]  # (batch, stack + 1, h, w)
        obs, next_obs = frames[:, :-1].copy(), frames[:, 1:].copy()
        # samples whose window reaches back past an episode start are rebuilt one by one
        starts = self.is_start[window[:, 1:], env_indices[:, None]]
        for k in np.flatnonzero(starts.any(axis=1)):
            i, e = int(inds[k]), int(env_indices[k])
            obs[k], next_obs[k] = self._obs(i, e), self._next_obs(i, e)
        return obs, next_obs

    def _n_step_returns(
        self, batch_inds: np.ndarray, env_indices: np.ndarray, env: VecNormalize | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """SB3 2.9.2 ``NStepReplayBuffer._get_samples``' arithmetic: returns, dones, discounts and the
        index of the transition whose ``next_obs`` is bootstrapped from."""
        # the newest transition ends every window, as if truncated, so that none runs into the oldest
        last_valid = self.pos - 1
        saved = self.timeouts[last_valid].copy()
        self.timeouts[last_valid] = np.logical_or(saved, np.logical_not(self.dones[last_valid]))
        indices = (batch_inds[:, None] + np.arange(self.n_steps)[None, :]) % self.buffer_size
        rewards = self._normalize_reward(self.rewards[indices, env_indices[:, None]], env)
        ended = np.logical_or(self.dones[indices, env_indices[:, None]], self.timeouts[indices, env_indices[:, None]])
        end = np.where(ended.any(axis=1), ended.argmax(axis=1), self.n_steps - 1)
        mask = np.arange(self.n_steps)[None, :] <= end[:, None]
        discounts = self.gamma ** mask.sum(axis=1, keepdims=True).astype(np.float32)
        returns = (rewards * self.gamma ** np.arange(self.n_steps, dtype=np.float32)[None, :] * mask).sum(
            axis=1, keepdims=True
        )
        last = (batch_inds + end) % self.buffer_size
        dones = self.dones[last, env_indices][:, None] * (1.0 - self.timeouts[last, env_indices][:, None])
        self.timeouts[last_valid] = saved
        return returns, dones.astype(np.float32), discounts, last

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples | PrioritizedSamples:
        if self.priority_alpha == 0:
            return super().sample(batch_size, env=env)
        slots = self.priorities.sample(batch_size, np.random)  # type: ignore[arg-type]
        priorities = self.priorities.get(slots)
        # (N P(i)) ** -beta over the batch's largest: N and the total cancel out
        weights = priorities**-self.priority_beta
        samples = self._samples(slots // self.n_envs, slots % self.n_envs, env)
        return PrioritizedSamples(
            *samples, weights=self.to_torch((weights / weights.max()).astype(np.float32)[:, None]), slots=slots
        )

    def update_priorities(self, slots: np.ndarray, td_errors: np.ndarray) -> None:
        """Set the priorities of sampled ``slots`` (:class:`PrioritizedSamples`) to ``|td_errors| + eps``."""
        priorities = np.abs(np.asarray(td_errors, dtype=np.float64)).reshape(-1) + self.PRIORITY_EPS
        self.max_priority = max(self.max_priority, float(priorities.max()))
        self.priorities.set(slots, priorities**self.priority_alpha)

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> ReplayBufferSamples:
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        return self._samples(batch_inds, env_indices, env)

    def _samples(
        self, batch_inds: np.ndarray, env_indices: np.ndarray, env: VecNormalize | None = None
    ) -> ReplayBufferSamples:
        """The transitions ``batch_inds`` of envs ``env_indices``."""
        obs, next_obs = self._stacks(batch_inds, env_indices)
        if self.n_steps == 1:
            obs, next_obs = self._shifted(obs, next_obs)
            data = (
                self._normalize_obs(obs, env),
                self.actions[batch_inds, env_indices, :],
                self._normalize_obs(next_obs, env),
                (self.dones[batch_inds, env_indices] * (1 - self.timeouts[batch_inds, env_indices])).reshape(-1, 1),
                self._normalize_reward(self.rewards[batch_inds, env_indices].reshape(-1, 1), env),
            )
            return ReplayBufferSamples(*tuple(map(self.to_torch, data)))
        returns, dones, discounts, last = self._n_step_returns(batch_inds, env_indices, env)
        moved = last != batch_inds  # windows that did not end at their first transition
        if moved.any():
            next_obs[moved] = self._stacks(last[moved], env_indices[moved])[1]
        obs, next_obs = self._shifted(obs, next_obs)
        return ReplayBufferSamples(
            observations=self.to_torch(self._normalize_obs(obs, env)),
            actions=self.to_torch(self.actions[batch_inds, env_indices, :]),
            next_observations=self.to_torch(self._normalize_obs(next_obs, env)),
            dones=self.to_torch(dones),
            rewards=self.to_torch(returns),
            discounts=self.to_torch(discounts),
        )

    def _shifted(self, obs: np.ndarray, next_obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``obs`` and ``next_obs`` shifted at random by up to ``shift_pad`` pixels, each by its own draw."""
        return random_shift(obs, self.shift_pad), random_shift(next_obs, self.shift_pad)

    def nbytes(self) -> int:
        """Bytes held: frames, episode starts, actions, rewards, flags (and the priorities' sum tree)."""
        arrays = (self.frames, self.is_start, self.actions, self.rewards, self.dones, self.timeouts)
        tree = self.priorities.nbytes if self.priority_alpha > 0 else 0
        return sum(a.nbytes for a in arrays) + sum(s.nbytes for s in self.starts.values()) + tree
