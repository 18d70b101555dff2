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


def _optimizer(**policy_kwargs):
    from sb3_mario import DoubleDQN, make_mario_env

    model = DoubleDQN(
        "MarioCnnPolicy", make_mario_env("1-1"), buffer_size=10, seed=0, device="cpu", policy_kwargs=policy_kwargs
    )
    return model.policy.optimizer


def test_adam_is_fused_unless_the_optimizer_kwargs_say_otherwise():
    assert _optimizer().defaults["fused"] is True
    given = _optimizer(optimizer_kwargs={"eps": 1.5e-4})
    assert given.defaults["fused"] is True and given.defaults["eps"] == 1.5e-4
    assert not _optimizer(optimizer_kwargs={"fused": False}).defaults["fused"]
    foreach = _optimizer(optimizer_kwargs={"foreach": True}).defaults
    assert foreach["foreach"] is True and not foreach["fused"]
    rmsprop = _optimizer(optimizer_class=torch.optim.RMSprop)
    assert isinstance(rmsprop, torch.optim.RMSprop) and "fused" not in rmsprop.defaults


def test_fused_adam_makes_the_same_updates_within_float_rounding():
    fused, looped = _optimizer(), _optimizer(optimizer_kwargs={"fused": False})
    pairs = list(zip(fused.param_groups[0]["params"], looped.param_groups[0]["params"], strict=True))
    start = [p.detach().clone() for p, _ in pairs]
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        for p, q in pairs:
            p.grad = torch.randn(p.shape, generator=generator)
            q.grad = p.grad.clone()
        fused.step()
        looped.step()
    for p, q in pairs:
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)
    assert max((p - p0).abs().max().item() for (p, _), p0 in zip(pairs, start, strict=True)) > 1e-3  # they moved


def test_the_dueling_head_adds_the_value_to_the_advantages_less_their_mean():
    from sb3_mario.agent.policies import DuelingHead

    head = DuelingHead(features_dim=3, n_actions=4, net_arch=[], activation_fn=nn.ReLU)
    with torch.no_grad():
        head.value[0].weight.copy_(torch.tensor([[1.0, 0.0, 0.0]]))
        head.value[0].bias.fill_(0.5)
        head.advantage[0].weight.copy_(torch.tensor([[0, 1, 0], [0, 0, 1], [0, 2, 0], [0, 0, 0]], dtype=torch.float))
        head.advantage[0].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 4.0]))
        features = torch.tensor([[2.0, 1.0, 3.0], [0.0, 0.0, 0.0]])
        q = head(features)
    # row 0: V = 2.5, A = (1, 3, 2, 4), mean 2.5; row 1: V = 0.5, A = (0, 0, 0, 4), mean 1
    torch.testing.assert_close(q, torch.tensor([[1.0, 3.0, 2.0, 4.0], [-0.5, -0.5, -0.5, 3.5]]), rtol=0, atol=0)


def test_dueling_networks_train_save_and_load(tmp_path):
    from sb3_mario import DoubleDQN, make_mario_env
    from sb3_mario.agent.policies import DuelingHead

    model = DoubleDQN(
        "MarioCnnPolicy",
        make_mario_env("1-1"),
        buffer_size=200,
        learning_starts=16,
        batch_size=8,
        train_freq=4,
        seed=0,
        device="cpu",
        policy_kwargs={"dueling": True},
    )
    for network in (model.q_net, model.q_net_target):
        assert isinstance(network.q_net, DuelingHead)
        assert sum(p.numel() for p in network.parameters()) == 1_686_693 + 513  # Linear(512, 1) more
    before = [p.detach().clone() for p in model.q_net.q_net.parameters()]
    model.learn(40)
    # the gradient reaches both streams
    assert all(not torch.equal(p0, p) for p0, p in zip(before, model.q_net.q_net.parameters(), strict=True))

    model.save(tmp_path / "dueling.zip")
    loaded = DoubleDQN.load(tmp_path / "dueling.zip", device="cpu")
    assert loaded.policy.dueling and isinstance(loaded.q_net.q_net, DuelingHead)
    obs = np.random.default_rng(0).integers(0, 256, (4, 4, 84, 84), dtype=np.uint8)
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.q_net(torch.as_tensor(obs)), model.q_net(torch.as_tensor(obs)), rtol=0, atol=0
        )
    assert not DoubleDQN("MarioCnnPolicy", make_mario_env("1-1"), buffer_size=10, device="cpu").policy.dueling
