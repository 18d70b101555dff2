"""DoubleDQN: the target maths, the loss it trains on, determinism and save/load."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytestmark = pytest.mark.needs_torch

th = pytest.importorskip("torch")
from stable_baselines3 import DQN  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402
from stable_baselines3.common.logger import Logger  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from sb3_mario import DoubleDQN, double_q_target, make_mario_env  # noqa: E402
from sb3_mario.errors import ConfigError  # noqa: E402
from tests.conftest import VectorEnv  # noqa: E402


def test_target_uses_online_argmax_and_target_values():
    next_q_online = th.tensor([[1.0, 5.0, 2.0], [0.0, -1.0, 3.0]])
    next_q_target = th.tensor([[10.0, 4.0, 0.0], [7.0, 2.0, 1.0]])
    rewards = th.tensor([[1.0], [0.5]])
    dones = th.tensor([[0.0], [0.0]])
    target = double_q_target(next_q_online, next_q_target, rewards, dones, 0.9)
    # online argmax: actions 1 and 2; target values there: 4 and 1 (DQN would take 10 and 7)
    th.testing.assert_close(target, th.tensor([[1.0 + 0.9 * 4.0], [0.5 + 0.9 * 1.0]]))


def test_terminal_transitions_do_not_bootstrap():
    q = th.tensor([[3.0, 9.0]])
    target = double_q_target(q, q, th.tensor([[2.0]]), th.tensor([[1.0]]), 0.99)
    th.testing.assert_close(target, th.tensor([[2.0]]))


def test_equals_dqn_max_target_when_both_nets_agree():
    g = th.Generator().manual_seed(0)
    q = th.randn(64, 5, generator=g)
    rewards, dones = th.randn(64, 1, generator=g), (th.rand(64, 1, generator=g) < 0.2).float()
    dqn_target = rewards + (1 - dones) * 0.9 * q.max(dim=1, keepdim=True).values
    th.testing.assert_close(double_q_target(q, q.clone(), rewards, dones, 0.9), dqn_target)


def test_per_sample_n_step_discounts():
    q_online = th.tensor([[0.0, 1.0], [1.0, 0.0]])
    q_target = th.tensor([[5.0, 2.0], [3.0, 8.0]])
    discounts = th.tensor([[0.9**3], [0.9]])  # a 3-step return and one cut short after 1 step
    target = double_q_target(q_online, q_target, th.tensor([[1.0], [2.0]]), th.zeros(2, 1), discounts)
    th.testing.assert_close(target, th.tensor([[1.0 + 0.729 * 2.0], [2.0 + 0.9 * 3.0]]))


def test_epsilon_greedy_target_mixes_the_greedy_value_and_the_mean():
    next_q_online = th.tensor([[1.0, 5.0, 2.0], [0.0, -1.0, 3.0]])
    next_q_target = th.tensor([[10.0, 4.0, 0.0], [7.0, 2.0, 0.0]])
    rewards, dones = th.tensor([[1.0], [0.5]]), th.tensor([[0.0], [1.0]])
    target = double_q_target(next_q_online, next_q_target, rewards, dones, 0.9, epsilon=0.1)
    # row 0: online argmax 1, rated 4 by the target net; mean of the target net 14 / 3
    # row 1: terminal, the reward alone
    th.testing.assert_close(target, th.tensor([[1.0 + 0.9 * (0.9 * 4.0 + 0.1 * 14.0 / 3.0)], [0.5]]))
    # epsilon 1: a uniformly random policy's value, the mean; epsilon 0: van Hasselt's target
    uniform = double_q_target(next_q_online, next_q_target, rewards, th.zeros(2, 1), 1.0, epsilon=1.0)
    th.testing.assert_close(uniform, rewards + th.tensor([[14.0 / 3.0], [3.0]]))
    th.testing.assert_close(
        double_q_target(next_q_online, next_q_target, rewards, dones, 0.9, epsilon=0.0),
        double_q_target(next_q_online, next_q_target, rewards, dones, 0.9),
    )


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_target_epsilon_out_of_range_is_one_line(value):
    with pytest.raises(
        ConfigError, match=r"^target_epsilon must be in \[0, 1\] \(0: the greedy target\), actual value: "
    ):
        DoubleDQN("MlpPolicy", VectorEnv(), target_epsilon=value, device="cpu")


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match=r"must both be \(batch, n_actions\), actual shapes: \(2, 3\) and \(2, 4\)"):
        double_q_target(th.zeros(2, 3), th.zeros(2, 4), th.zeros(2, 1), th.zeros(2, 1), 0.9)


def _linear(model, weight, bias):
    layer = model.q_net.q_net[0]
    with th.no_grad():
        layer.weight.copy_(th.tensor(weight))
        layer.bias.copy_(th.tensor(bias))


# Q_online(s') = [1, 3] -> a* = 1; Q_target(s') = [2.5, -3], its mean -0.25 (see the test below)
@pytest.mark.parametrize(
    ("algo", "kwargs", "next_value"),
    [
        (DoubleDQN, {}, -3.0),  # the target net rates the online choice
        (DoubleDQN, {"double_q": False}, 2.5),  # the max of the target net
        (DQN, {}, 2.5),
        (DoubleDQN, {"target_epsilon": 0.5}, 0.5 * -3.0 + 0.5 * -0.25),
        (DoubleDQN, {"double_q": False, "target_epsilon": 0.5}, 0.5 * 2.5 + 0.5 * -0.25),
    ],
)
def test_logged_loss_is_huber_of_the_double_q_target(algo, kwargs, next_value):
    model = algo(
        "MlpPolicy",
        VectorEnv(),
        learning_rate=0.0,
        gamma=0.9,
        buffer_size=10,
        batch_size=1,
        policy_kwargs={"net_arch": []},
        device="cpu",
        **kwargs,
    )
    model.set_logger(Logger(folder=None, output_formats=[]))
    w_online, b_online = [[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]
    w_target, b_target = [[2.0, 0.0], [0.0, -1.0]], [0.5, 0.0]
    _linear(model, w_online, b_online)
    model.q_net_target.q_net[0].weight.data.copy_(th.tensor(w_target))
    model.q_net_target.q_net[0].bias.data.copy_(th.tensor(b_target))
    obs, next_obs = np.array([[1.0, 2.0]], np.float32), np.array([[1.0, 3.0]], np.float32)
    model.replay_buffer.add(obs, next_obs, np.array([[1]]), np.array([1.5]), np.array([False]), [{}])

    model.train(gradient_steps=1, batch_size=1)

    # Q_online(s, a=1) = 2; Q_online(s') = [1, 3] -> a* = 1; Q_target(s') = [2.5, -3]
    huber = lambda y: F.smooth_l1_loss(th.tensor(2.0), th.tensor(y)).item()  # noqa: E731
    assert model.logger.name_to_value["train/loss"] == pytest.approx(huber(1.5 + 0.9 * next_value))
    # the four targets give four different losses: the loss tells them apart
    assert len({round(huber(1.5 + 0.9 * v), 6) for v in (-3.0, 2.5, -1.625, 1.125)}) == 4
    # learning rate 0: the weights did not move
    th.testing.assert_close(model.q_net.q_net[0].weight, th.tensor(w_online))


class _Corridor(gym.Env):
    """Episodes of 7 steps; noisy observations of the step; reward 1 for the action ``t % 3``, else -0.1."""

    observation_space = gym.spaces.Box(-2, 2, (4,), dtype=np.float32)
    action_space = gym.spaces.Discrete(3)

    def _obs(self) -> np.ndarray:
        return (np.eye(4, dtype=np.float32)[self.t % 4] + 0.1 * self.np_random.standard_normal(4)).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action: int):
        reward = 1.0 if action == self.t % 3 else -0.1
        self.t += 1
        return self._obs(), reward, self.t == 7, False, {}


def _trained(algo, **kwargs):
    model = algo(
        "MlpPolicy",
        _Corridor(),
        learning_rate=1e-2,
        buffer_size=300,
        learning_starts=20,
        batch_size=8,
        train_freq=2,
        gradient_steps=2,
        target_update_interval=20,
        exploration_fraction=0.5,
        policy_kwargs={"net_arch": [16]},
        seed=5,
        device="cpu",
        **kwargs,
    )
    return model.learn(300)


def test_dqn_target_trains_exactly_as_sb3_dqn():
    """``double_q=False`` is SB3's DQN: the same seed gives the same weights after 300 steps (280 updates)."""
    dqn = _trained(DQN).policy.state_dict()
    ours = _trained(DoubleDQN, double_q=False)
    double = _trained(DoubleDQN).policy.state_dict()
    assert ours._n_updates == 280
    for name, value in ours.policy.state_dict().items():
        th.testing.assert_close(value, dqn[name], rtol=0, atol=0, msg=name)
    # the double-Q target trains to other weights from the same data
    assert any(not th.equal(double[name], dqn[name]) for name in dqn)


class _Record(BaseCallback):
    def __init__(self):
        super().__init__()
        self.actions: list[int] = []
        self.losses: list[float | None] = []

    def _on_step(self) -> bool:
        self.actions.append(int(self.locals["actions"][0]))
        self.losses.append(self.model.logger.name_to_value.get("train/loss"))
        return True


@pytest.mark.slow
def test_same_seed_same_actions_and_losses_for_500_steps():
    def run() -> _Record:
        record = _Record()
        model = DoubleDQN(
            "MarioCnnPolicy",
            make_mario_env("1-1"),
            buffer_size=500,
            learning_starts=100,
            train_freq=4,
            exploration_fraction=0.5,
            seed=3,
            device="cpu",
        )
        model.learn(500, callback=record)
        return record

    first, second = run(), run()
    assert len(first.actions) == 500 and first.actions == second.actions
    assert first.losses == second.losses and sum(loss is not None for loss in first.losses) > 350
    assert len(set(first.actions)) == 5


def test_save_load_round_trip_predicts_the_same(tmp_path):
    env = make_mario_env("1-1")
    model = DoubleDQN(
        "MarioCnnPolicy", env, buffer_size=200, learning_starts=50, seed=1, device="cpu", target_epsilon=0.05
    )
    model.learn(120)
    model.save(tmp_path / "model.zip")
    obs = []
    o, _ = env.reset(seed=0)
    for _ in range(30):
        obs.append(o)
        o, *_ = env.step(1)
    batch = np.stack(obs)
    expected, _ = model.predict(batch, deterministic=True)
    for cls in (DoubleDQN, DQN):
        loaded = cls.load(tmp_path / "model.zip", device="cpu")
        actions, _ = loaded.predict(batch, deterministic=True)
        np.testing.assert_array_equal(actions, expected)
        assert loaded.num_timesteps == 120
    reloaded = DoubleDQN.load(tmp_path / "model.zip")
    assert type(reloaded).__name__ == "DoubleDQN"
    assert (reloaded.target_epsilon, reloaded.double_q) == (0.05, True)  # the target's settings travel with it
