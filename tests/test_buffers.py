"""FrameDedupReplayBuffer samples exactly what SB3's ReplayBuffer (or, with n_steps, its
NStepReplayBuffer) samples, in a fraction of the memory."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.needs_torch
th = pytest.importorskip("torch")
from gymnasium import spaces  # noqa: E402
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer  # noqa: E402

from sb3_mario.agent.augmentation import random_shift  # noqa: E402
from sb3_mario.agent.buffers import FrameDedupReplayBuffer  # noqa: E402

OBS = spaces.Box(0, 255, (4, 6, 5), dtype=np.uint8)
ACT = spaces.Discrete(5)


def stream(n_envs: int, steps: int, seed: int, pad: str = "zero"):
    """Transitions as a vec env with frame stacking gives them: stacks roll, episodes end at
    random (terminated or truncated), the terminal obs differs from the next reset obs."""
    rng = np.random.default_rng(seed)
    counter = iter(range(1, 10**9))

    def frame():
        return rng.integers(0, 256, OBS.shape[1:], dtype=np.uint8) ^ np.uint8(next(counter) % 256)

    def reset():
        first = frame()
        pad_frame = np.zeros_like(first) if pad == "zero" else first
        return np.stack([pad_frame] * 3 + [first])

    obs = np.stack([reset() for _ in range(n_envs)])
    for _ in range(steps):
        next_obs = np.stack([np.concatenate([o[1:], frame()[None]]) for o in obs])
        done = rng.random(n_envs) < 0.12
        truncated = done & (rng.random(n_envs) < 0.5)
        infos = [{"TimeLimit.truncated": bool(t)} for t in truncated]
        yield obs, next_obs, rng.integers(0, 5, (n_envs, 1)), rng.normal(size=n_envs).astype(np.float32), done, infos
        obs = next_obs.copy()
        for e in np.flatnonzero(done):
            obs[e] = reset()


def filled(n_envs: int, size: int, steps: int, seed: int, pad: str = "zero", n_steps: int = 1):
    if n_steps == 1:
        ours = FrameDedupReplayBuffer(size, OBS, ACT, device="cpu", n_envs=n_envs)
        sb3 = ReplayBuffer(size, OBS, ACT, device="cpu", n_envs=n_envs)
    else:
        ours = FrameDedupReplayBuffer(size, OBS, ACT, device="cpu", n_envs=n_envs, n_steps=n_steps, gamma=0.9)
        sb3 = NStepReplayBuffer(size, OBS, ACT, device="cpu", n_envs=n_envs, n_steps=n_steps, gamma=0.9)
    for transition in stream(n_envs, steps, seed, pad):
        ours.add(*transition)
        sb3.add(*transition)
    return ours, sb3


def assert_same(a, b) -> None:
    for field in ("observations", "actions", "next_observations", "dones", "rewards"):
        th.testing.assert_close(getattr(a, field), getattr(b, field), rtol=0, atol=0, msg=field)
    assert (a.discounts is None) == (b.discounts is None)
    if b.discounts is not None:
        th.testing.assert_close(a.discounts, b.discounts, rtol=0, atol=0, msg="discounts")


@pytest.mark.parametrize(
    ("n_envs", "size", "steps"), [(1, 40, 25), (1, 40, 137), (3, 60, 17), (3, 60, 300), (2, 9, 50)]
)
@pytest.mark.parametrize("pad", ["zero", "repeat"])
def test_every_transition_equals_sb3(n_envs: int, size: int, steps: int, pad: str):
    ours, sb3 = filled(n_envs, size, steps, seed=n_envs * 1000 + steps, pad=pad)
    assert (ours.pos, ours.full) == (sb3.pos, sb3.full)
    upper = sb3.buffer_size if sb3.full else sb3.pos
    for e in range(n_envs):
        for i in range(upper):
            np.testing.assert_array_equal(ours._obs(i, e), sb3.observations[i, e], err_msg=f"obs {i} env {e}")
            np.testing.assert_array_equal(
                ours._next_obs(i, e), sb3.next_observations[i, e], err_msg=f"next {i} env {e}"
            )


@pytest.mark.parametrize(("n_envs", "size", "steps"), [(1, 50, 30), (2, 80, 500), (4, 64, 90)])
@pytest.mark.parametrize("n_steps", [1, 3, 5])
def test_sampled_batches_equal_sb3_with_the_same_seed(n_envs: int, size: int, steps: int, n_steps: int):
    ours, sb3 = filled(n_envs, size, steps, seed=7, n_steps=n_steps)
    for seed in range(20):
        np.random.seed(seed)
        a = ours.sample(32)
        np.random.seed(seed)
        b = sb3.sample(32)
        assert_same(a, b)
    assert int(sb3.dones.sum()) > 0 and int(sb3.timeouts.sum()) > 0  # the data crossed episode ends of both kinds


def test_one_frame_per_transition():
    obs_space = spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)
    ours = FrameDedupReplayBuffer(1000, obs_space, ACT, device="cpu")
    sb3 = ReplayBuffer(1000, obs_space, ACT, device="cpu")
    assert ours.frames.nbytes / 1000 == 84 * 84
    assert (sb3.observations.nbytes + sb3.next_observations.nbytes) / ours.frames.nbytes == 8


def test_bad_arguments():
    with pytest.raises(ValueError, match="needs a \\(stack, height, width\\) Box"):
        FrameDedupReplayBuffer(10, spaces.Box(0, 1, (4,)), ACT)
    with pytest.raises(ValueError, match="already stores each frame once"):
        FrameDedupReplayBuffer(10, OBS, ACT, optimize_memory_usage=True)
    with pytest.raises(ValueError, match="n_steps must be >= 1, actual value: 0"):
        FrameDedupReplayBuffer(10, OBS, ACT, n_steps=0)
    with pytest.raises(ValueError, match=r"shift_pad must be in \[0, 5\), actual value: 5"):
        FrameDedupReplayBuffer(10, OBS, ACT, shift_pad=5)


@pytest.mark.parametrize("n_steps", [1, 3])
def test_shifted_batches_are_the_batches_shifted_by_the_next_draws(n_steps: int):
    plain = FrameDedupReplayBuffer(60, OBS, ACT, device="cpu", n_envs=2, n_steps=n_steps, gamma=0.9)
    shifted = FrameDedupReplayBuffer(60, OBS, ACT, device="cpu", n_envs=2, n_steps=n_steps, gamma=0.9, shift_pad=2)
    for transition in stream(2, 90, seed=3):
        plain.add(*transition)
        shifted.add(*transition)
    for seed in range(5):
        np.random.seed(seed)
        a = shifted.sample(16)
        np.random.seed(seed)
        b = plain.sample(16)
        obs_offsets = np.random.randint(0, 5, size=(16, 2))  # what the shifting buffer drew after the batch
        next_offsets = np.random.randint(0, 5, size=(16, 2))
        assert not np.array_equal(obs_offsets, next_offsets)  # obs and next_obs move independently
        np.testing.assert_array_equal(a.observations, random_shift(b.observations.numpy(), 2, obs_offsets))
        np.testing.assert_array_equal(a.next_observations, random_shift(b.next_observations.numpy(), 2, next_offsets))
        for field in ("actions", "dones", "rewards"):
            th.testing.assert_close(getattr(a, field), getattr(b, field), rtol=0, atol=0, msg=field)
        if n_steps > 1:
            th.testing.assert_close(a.discounts, b.discounts, rtol=0, atol=0)


@pytest.mark.slow
def test_trains_from_a_preset_config(tmp_path):
    from sb3_mario.run.config import resolve
    from sb3_mario.run.training import build_model

    config = resolve(hyperparams={"buffer_size": 400, "learning_starts": 100, "n_envs": 2}, settings={"device": "cpu"})
    model = build_model(config, vec_env="dummy")
    assert isinstance(model.replay_buffer, FrameDedupReplayBuffer)
    assert (model.replay_buffer.n_steps, model.replay_buffer.gamma) == (3, 0.9)
    model.learn(300)
    assert model.replay_buffer.pos == model.num_timesteps // 2 and model.logger.name_to_value["train/loss"] > 0


def test_n_step_returns_by_hand():
    """One env, rewards 1, 2, 3, 4, 5; the episode terminates at the 4th transition."""
    buffer = FrameDedupReplayBuffer(10, OBS, ACT, device="cpu", n_steps=3, gamma=0.5)
    frame = [np.full(OBS.shape[1:], t, dtype=np.uint8) for t in range(6)]
    stacks = [np.stack([frame[max(t + k, 0)] for k in range(-3, 1)]) for t in range(6)]
    for t, done in enumerate([False, False, False, True, False]):
        buffer.add(stacks[t][None], stacks[t + 1][None], np.array([[t]]), np.array([t + 1.0]), np.array([done]), [{}])
    batch = buffer._get_samples(np.array([0, 1, 2, 3]))
    # 0 sums 3 rewards and bootstraps; 1 reaches the terminal 4th transition in 3, 2 in 2; 3 is terminal
    assert batch.rewards.flatten().tolist() == [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3 + 0.25 * 4, 3 + 0.5 * 4, 4]
    assert batch.discounts.flatten().tolist() == [0.125, 0.125, 0.25, 0.5]
    assert batch.dones.flatten().tolist() == [0, 1, 1, 1]
    np.testing.assert_array_equal(batch.next_observations.numpy(), np.stack([stacks[i] for i in (3, 4, 4, 4)]))
    np.testing.assert_array_equal(batch.observations.numpy(), np.stack(stacks[:4]))


def test_n_step_buffers_get_the_algorithms_gamma():
    from sb3_mario.agent.presets import get_preset
    from sb3_mario.errors import ConfigError
    from sb3_mario.run.config import split_hyperparams

    preset = get_preset("ddqn")  # gamma 0.9, FrameDedupReplayBuffer, 3-step returns with priorities
    written = {"n_steps": 3, "priority_alpha": 0.5}
    assert split_hyperparams(preset, "ddqn").model_kwargs["replay_buffer_kwargs"] == {**written, "gamma": 0.9}
    tuned = split_hyperparams({**preset, "gamma": 0.99}, "ddqn")
    assert tuned.model_kwargs["replay_buffer_kwargs"] == {**written, "gamma": 0.99}
    assert preset["replay_buffer_kwargs"] == written  # the entry itself is left as written
    assert "gamma" not in split_hyperparams({**preset, "replay_buffer_kwargs": {}}, "ddqn").model_kwargs.get(
        "replay_buffer_kwargs", {}
    )
    with pytest.raises(ConfigError, match="n_steps: 5 is ignored with a replay_buffer_class: give"):
        split_hyperparams({**preset, "replay_buffer_kwargs": {}, "n_steps": 5}, "ddqn")
    with pytest.raises(ConfigError, match=r"must equal the algorithm's gamma \(0.99\), actual value: 0.9 \(leave"):
        split_hyperparams({**preset, "gamma": 0.99, "replay_buffer_kwargs": {"n_steps": 3, "gamma": 0.9}}, "ddqn")


def test_double_dqn_gives_an_n_step_frame_dedup_buffer_its_gamma():
    """In Python, as rl_zoo3 builds it: n_steps through replay_buffer_kwargs, no gamma there."""
    from sb3_mario import DoubleDQN, make_mario_vec_env
    from sb3_mario.errors import ConfigError

    env = make_mario_vec_env(1, "1-1", seed=0)
    kwargs = {"buffer_size": 100, "replay_buffer_class": FrameDedupReplayBuffer, "device": "cpu"}
    model = DoubleDQN("MarioCnnPolicy", env, gamma=0.8, replay_buffer_kwargs={"n_steps": 3}, **kwargs)
    assert model.replay_buffer.gamma == 0.8 and model.replay_buffer.n_steps == 3
    assert DoubleDQN("MarioCnnPolicy", env, gamma=0.8, **kwargs).replay_buffer.gamma == 0.99  # one step: unused
    with pytest.raises(ConfigError, match=r"must equal the algorithm's gamma \(0.8\), actual value: 0.9"):
        DoubleDQN("MarioCnnPolicy", env, gamma=0.8, replay_buffer_kwargs={"n_steps": 3, "gamma": 0.9}, **kwargs)
    env.close()


def prioritized(n_steps: int = 1, **kwargs) -> tuple[FrameDedupReplayBuffer, FrameDedupReplayBuffer]:
    """The same 90 transitions of 2 envs in a prioritized buffer and in a uniform one."""
    kw = {"device": "cpu", "n_envs": 2, "n_steps": n_steps, "gamma": 0.9}
    ours = FrameDedupReplayBuffer(60, OBS, ACT, priority_alpha=0.5, **kw, **kwargs)
    plain = FrameDedupReplayBuffer(60, OBS, ACT, **kw)
    for transition in stream(2, 90, seed=4):
        ours.add(*transition)
        plain.add(*transition)
    return ours, plain


@pytest.mark.parametrize("n_steps", [1, 3])
def test_prioritized_batches_are_the_drawn_slots_transitions_with_their_importance_weights(n_steps: int):
    """Slots are drawn from the sum tree with np.random's next draws (stratified); the batch holds those
    slots' transitions exactly as the uniform buffer builds them, weighted (N P(i)) ** -beta / max."""
    from sb3_mario.agent.sum_tree import SumTree

    ours, plain = prioritized(n_steps)
    slots = np.arange(60)  # 30 transitions of 2 envs: slot i * 2 + e
    np.testing.assert_array_equal(ours.priorities.get(slots), np.ones(60))  # new: the largest priority, 1
    errors = np.linspace(0.0, 3.0, 60)
    ours.update_priorities(slots, errors)
    priorities = (errors + 1e-6) ** 0.5
    np.testing.assert_allclose(ours.priorities.get(slots), priorities)
    expected_tree = SumTree(60)
    expected_tree.set(slots, priorities)
    np.random.seed(3)
    batch = ours.sample(16)
    np.random.seed(3)
    drawn = expected_tree.find((np.arange(16) + np.random.random(16)) * (expected_tree.total / 16))
    np.testing.assert_array_equal(batch.slots, drawn)
    weights = (60 * priorities[drawn] / priorities.sum()) ** -0.5
    np.testing.assert_allclose(batch.weights.numpy()[:, 0], weights / weights.max(), rtol=1e-6)
    assert_same(batch, plain._samples(drawn // 2, drawn % 2))
    assert np.mean(drawn >= 30) > 0.5  # larger errors are drawn more often


def test_new_transitions_take_the_largest_priority_seen_and_a_pickled_buffer_keeps_its_priorities():
    import pickle

    ours, _ = prioritized()
    ours.update_priorities(np.array([10, 15]), np.array([-4.0, 0.25]))  # |error| + eps
    assert ours.max_priority == pytest.approx(4.0 + 1e-6)
    transition = next(stream(2, 1, seed=9))
    assert (ours.pos, ours.full) == (0, True)
    ours.add(*transition)  # over the oldest transition: slots 0 and 1
    np.testing.assert_allclose(ours.priorities.get([0, 1, 15]), [np.sqrt(4.0 + 1e-6)] * 2 + [np.sqrt(0.25 + 1e-6)])
    copy = pickle.loads(pickle.dumps(ours))
    np.testing.assert_array_equal(copy.priorities.get(np.arange(60)), ours.priorities.get(np.arange(60)))
    copy.update_priorities(np.array([1]), np.array([9.0]))  # the copy has its own lock
    assert copy.max_priority == pytest.approx(9.0 + 1e-6) and ours.max_priority < 5
    with pytest.raises(
        ValueError, match=r"priority_alpha and priority_beta must be in \[0, 1\], actual values: 2, 0.5"
    ):
        FrameDedupReplayBuffer(10, OBS, ACT, priority_alpha=2)


class _FrameEnv(__import__("gymnasium").Env):
    """The buffer tests' spaces; never stepped (the buffer is filled by hand)."""

    observation_space = OBS
    action_space = ACT


def test_double_dqn_weighs_its_loss_and_sets_the_sampled_priorities_to_the_td_errors():
    """One gradient step on a prioritized batch: the loss is the importance-weighted Huber loss, and the
    sampled slots' priorities become (|target - Q| + eps) ** alpha, both from the weights before the step."""
    import copy

    from stable_baselines3.common.logger import configure
    from torch.nn import functional as F

    from sb3_mario.agent.double_dqn import DoubleDQN, double_q_target

    model = DoubleDQN(
        "MlpPolicy",
        _FrameEnv(),
        buffer_size=60,
        learning_starts=0,
        device="cpu",
        seed=0,
        replay_buffer_class=FrameDedupReplayBuffer,
        replay_buffer_kwargs={"priority_alpha": 0.5},
        learning_rate=1e-3,
    )
    model.set_logger(configure(None, []))
    buffer = model.replay_buffer
    for transition in stream(1, 50, seed=5):
        buffer.add(*transition)
    buffer.update_priorities(np.arange(50), np.linspace(0.1, 5.0, 50))  # unequal weights
    q_net, q_target = copy.deepcopy(model.q_net), copy.deepcopy(model.q_net_target)
    np.random.seed(11)
    batch = buffer.sample(8)
    with th.no_grad():
        target = double_q_target(
            q_net(batch.next_observations), q_target(batch.next_observations), batch.rewards, batch.dones, 0.99
        )
        current = q_net(batch.observations).gather(1, batch.actions.long())
    expected_loss = (batch.weights * F.smooth_l1_loss(current, target, reduction="none")).mean().item()
    unweighted = F.smooth_l1_loss(current, target).item()
    before = buffer.priorities.get(batch.slots)
    updates = model._gradient_steps([batch], list(model.policy.parameters()))
    assert updates.losses == [pytest.approx(expected_loss, rel=1e-5)] and expected_loss != pytest.approx(unweighted)
    np.testing.assert_array_equal(buffer.priorities.get(batch.slots), before)  # set when the updates are recorded
    model._record_updates(updates)
    expected = (np.abs((target - current).numpy()[:, 0]) + 1e-6) ** 0.5
    np.testing.assert_allclose(buffer.priorities.get(batch.slots), expected, rtol=1e-5)
