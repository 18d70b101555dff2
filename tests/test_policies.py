"""MarioCNN is the tutorial's DQNSolver, weight for weight."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.needs_torch

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from bench.tutorial_agent import DQNSolver  # noqa: E402  (the article's network, as written)


@pytest.fixture(scope="module")
def model():
    from sb3_mario import DoubleDQN, make_mario_env

    return DoubleDQN("MarioCnnPolicy", make_mario_env("1-1"), buffer_size=100, seed=0, device="cpu")


def test_q_values_equal_the_tutorials_network(model):
    q_net = model.q_net
    solver = DQNSolver((4, 84, 84), 5)
    pairs = [
        (solver.conv[0], q_net.features_extractor.cnn[0]),
        (solver.conv[2], q_net.features_extractor.cnn[2]),
        (solver.conv[4], q_net.features_extractor.cnn[4]),
        (solver.fc[0], q_net.features_extractor.linear[0]),
        (solver.fc[2], q_net.q_net[0]),
    ]
    with torch.no_grad():
        for theirs, ours in pairs:
            assert theirs.weight.shape == ours.weight.shape
            theirs.weight.copy_(ours.weight)
            theirs.bias.copy_(ours.bias)
    assert sum(p.numel() for p in solver.parameters()) == sum(p.numel() for p in q_net.parameters()) == 1_686_693

    obs = np.random.default_rng(0).integers(0, 256, (16, 4, 84, 84), dtype=np.uint8)
    with torch.no_grad():
        ours = q_net(torch.as_tensor(obs))  # uint8: the policy scales by 1/255
        theirs = solver(torch.as_tensor(obs).float() / 255.0)  # the tutorial's ScaledFloatFrame
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_q_head_has_no_hidden_layers(model):
    # net_arch=[]: the features go straight to Linear(512, n_actions)
    assert [type(m) for m in model.q_net.q_net] == [nn.Linear]
    assert model.q_net.q_net[0].in_features == 512 and model.q_net.q_net[0].out_features == 5


def test_policy_kwargs_give_the_same_network_to_stock_dqn():
    from stable_baselines3 import DQN

    from sb3_mario import MARIO_POLICY_KWARGS, MarioCNN, make_mario_env

    dqn = DQN("CnnPolicy", make_mario_env("1-1"), buffer_size=100, policy_kwargs=MARIO_POLICY_KWARGS, device="cpu")
    assert isinstance(dqn.q_net.features_extractor, MarioCNN)
    assert sum(p.numel() for p in dqn.q_net.parameters()) == 1_686_693
