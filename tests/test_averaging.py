"""The moving average of the online weights (sb3_mario.agent.averaging, DoubleDQN(average_tau=...))."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.needs_torch

th = pytest.importorskip("torch")

from stable_baselines3 import DQN  # noqa: E402
from stable_baselines3.common.logger import Logger  # noqa: E402

from sb3_mario import DoubleDQN, make_mario_vec_env  # noqa: E402
from sb3_mario.agent.averaging import average_weight, update_average  # noqa: E402
from sb3_mario.errors import ConfigError  # noqa: E402
from sb3_mario.run.evaluation import Player  # noqa: E402
from tests.conftest import VectorEnv, save_plain_config  # noqa: E402


def _linear_model(**kwargs) -> DoubleDQN:
    return DoubleDQN("MlpPolicy", VectorEnv(), buffer_size=10, policy_kwargs={"net_arch": []}, device="cpu", **kwargs)


def _set(network: th.nn.Module, weight: list[list[float]], bias: list[float]) -> None:
    layer = network.q_net[0]
    with th.no_grad():
        layer.weight.copy_(th.tensor(weight))
        layer.bias.copy_(th.tensor(bias))


def test_folding_n_updates_at_once_equals_n_averaging_steps_with_the_same_weights():
    average, online = th.nn.Linear(3, 2), th.nn.Linear(3, 2)
    stepped = th.nn.Linear(3, 2)
    stepped.load_state_dict(average.state_dict())
    tau, n = 0.1, 5
    with th.no_grad():
        for _ in range(n):  # a <- (1 - tau) a + tau w, n times
            for a, w in zip(stepped.parameters(), online.parameters(), strict=True):
                a.mul_(1 - tau).add_(tau * w)
    update_average(average, online, average_weight(tau, n))
    for a, b in zip(average.parameters(), stepped.parameters(), strict=True):
        th.testing.assert_close(a, b)
    assert average_weight(0.5, 2) == 0.75 and average_weight(0.005, 1) == pytest.approx(0.005)


def test_integer_buffers_are_copied_not_averaged():
    average, online = th.nn.Linear(1, 1), th.nn.Linear(1, 1)
    for module, count in ((average, 0), (online, 7)):
        module.register_buffer("count", th.tensor(count))
        with th.no_grad():
            module.weight.fill_(float(count))
    update_average(average, online, 0.5)
    assert average.count.item() == 7 and average.weight.item() == 3.5


def test_the_average_takes_the_updates_since_the_last_train_call():
    """tau 0.5: two updates folded at once weigh 1 - 0.5**2 = 0.75, the previous average 0.25."""
    model = _linear_model(average_tau=0.5)
    model.set_logger(Logger(folder=None, output_formats=[]))
    _set(model.q_net_average, [[0.0, 4.0], [8.0, 0.0]], [4.0, -4.0])
    _set(model.q_net, [[4.0, 0.0], [0.0, 8.0]], [0.0, 4.0])
    model._n_updates = 2
    model.train(gradient_steps=0, batch_size=1)
    layer = model.q_net_average.q_net[0]
    th.testing.assert_close(layer.weight, th.tensor([[3.0, 1.0], [2.0, 6.0]]))
    th.testing.assert_close(layer.bias, th.tensor([1.0, 2.0]))
    assert model._averaged_updates == 2
    model.train(gradient_steps=0, batch_size=1)  # no update since: unchanged
    th.testing.assert_close(layer.bias, th.tensor([1.0, 2.0]))


@pytest.mark.parametrize("overlap", [False, True])
def test_every_update_is_folded_once_at_the_start_of_the_next_train_call(scripted, overlap: bool):
    """tau 1: the average is the online network as the last train() call's updates began."""
    scripted([float(t % 3) for t in range(37)])
    model = DoubleDQN(
        "MarioCnnPolicy",
        make_mario_vec_env(2, "1-1", seed=5, vec_env="dummy"),
        learning_rate=1e-3,
        buffer_size=1_000,
        batch_size=8,
        learning_starts=40,
        train_freq=4,
        gradient_steps=2,
        target_update_interval=60,
        overlap_updates=overlap,
        average_tau=1.0,
        seed=11,
        device="cpu",
    )
    starts: list[list[th.Tensor]] = []
    gradient_steps = model._gradient_steps

    def record(*args):
        starts.append([p.detach().clone() for p in model.q_net.parameters()])
        return gradient_steps(*args)

    model._gradient_steps = record
    model.learn(200)
    assert len(starts) == (200 - 40) // 8 and model._n_updates == 2 * len(starts)
    assert model._averaged_updates == model._n_updates - 2  # the last call's 2 updates: at the next call
    for a, b in zip(model.q_net_average.parameters(), starts[-1], strict=True):
        th.testing.assert_close(a, b)
    online = model.q_net.parameters()
    assert any(not th.equal(a, b) for a, b in zip(model.q_net_average.parameters(), online, strict=True))
    assert not any(p.requires_grad for p in model.q_net_average.parameters())


def test_the_average_is_saved_loaded_and_exported_as_a_plain_model(tmp_path):
    from sb3_mario.run.export import export_model

    model = _linear_model(average_tau=0.005)
    _set(model.q_net_average, [[1.0, 2.0], [3.0, 4.0]], [5.0, 6.0])
    model._n_updates, model._averaged_updates = 9, 7
    model.save(tmp_path / "model.zip")
    loaded = DoubleDQN.load(tmp_path / "model.zip", device="cpu")
    assert loaded.average_tau == 0.005 and (loaded._n_updates, loaded._averaged_updates) == (9, 7)
    th.testing.assert_close(loaded.q_net_average.q_net[0].bias, th.tensor([5.0, 6.0]))
    th.testing.assert_close(loaded.q_net.q_net[0].weight, model.q_net.q_net[0].weight)

    export_model(tmp_path / "model.zip", tmp_path / "average.zip", average=True)
    exported = DQN.load(tmp_path / "average.zip", device="cpu")  # a plain model: SB3's DQN reads it
    for network in (exported.q_net, exported.q_net_target):
        th.testing.assert_close(network.q_net[0].weight, th.tensor([[1.0, 2.0], [3.0, 4.0]]))
        th.testing.assert_close(network.q_net[0].bias, th.tensor([5.0, 6.0]))
    assert DoubleDQN.load(tmp_path / "average.zip", device="cpu").q_net_average is None

    plain = _linear_model()
    assert plain.q_net_average is None
    plain.save(tmp_path / "plain.zip")
    with pytest.raises(ConfigError, match="keeps no average of its weights"):
        export_model(tmp_path / "plain.zip", tmp_path / "nothing.zip", average=True)
    assert not (tmp_path / "nothing.zip").exists()


def test_loading_with_another_average_tau_starts_or_drops_the_average(tmp_path):
    """As a resume whose config.yaml gained or lost average_tau: the model loads either way."""
    plain = _linear_model()
    _set(plain.q_net, [[1.0, 2.0], [3.0, 4.0]], [5.0, 6.0])
    plain.save(tmp_path / "plain.zip")
    started = DoubleDQN.load(tmp_path / "plain.zip", device="cpu", average_tau=0.01)
    assert started.average_tau == 0.01
    for network in (started.q_net, started.q_net_average):  # the average starts from the loaded weights
        th.testing.assert_close(network.q_net[0].bias, th.tensor([5.0, 6.0]))

    averaged = _linear_model(average_tau=0.01)
    averaged.save(tmp_path / "averaged.zip")
    dropped = DoubleDQN.load(tmp_path / "averaged.zip", device="cpu", average_tau=0.0)
    assert dropped.q_net_average is None and "q_net_average" not in dropped._get_torch_save_params()[0]
    with pytest.raises(ConfigError, match=r"average_tau must be in \[0, 1\]"):
        DoubleDQN.load(tmp_path / "averaged.zip", device="cpu", average_tau=2.0)


def test_the_player_plays_the_network_it_is_given():
    model = _linear_model(average_tau=0.005)
    _set(model.q_net, [[0.0, 0.0], [0.0, 0.0]], [1.0, 0.0])
    _set(model.q_net_average, [[0.0, 0.0], [0.0, 0.0]], [0.0, 2.0])
    obs = np.zeros(2, np.float32)
    online, average = Player(model), Player(model, network=model.q_net_average)
    assert (online(obs), online.last_q) == (0, 1.0)
    assert (average(obs), average.last_q) == (1, 2.0)


@pytest.mark.parametrize("tau", [-0.1, 1.5])
def test_an_average_tau_outside_0_1_is_refused(tau: float):
    with pytest.raises(ConfigError, match=r"average_tau must be in \[0, 1\] \(0: no average\), actual value"):
        _linear_model(average_tau=tau)


def test_evaluate_plays_the_average_when_asked(tmp_path, scripted):
    """``sb3-mario evaluate --average``: the average of weights plays, and the summary says so."""
    from sb3_mario import make_mario_env
    from sb3_mario.run.evaluation import PlaySettings, evaluate

    games = scripted([1.0] * 6)  # 6 frames: 2 agent steps of 4 frames (the last cut short by the end)
    model = DoubleDQN("MarioCnnPolicy", make_mario_env("1-1"), buffer_size=100, average_tau=0.005, device="cpu")
    with th.no_grad():  # the online network always picks NOOP (0), the average right+A+B (4)
        for network, best in ((model.q_net, 0), (model.q_net_average, 4)):
            network.q_net[-1].weight.zero_()
            network.q_net[-1].bias.copy_(th.eye(5)[best])
    model.save(tmp_path / "model.zip")
    save_plain_config(tmp_path / "model.zip")  # the game's own controls: a held jump is not released
    for average, action in ((False, 0), (True, 4)):
        summary = evaluate(tmp_path / "model.zip", PlaySettings(episodes=1, average=average, device="cpu"))
        assert summary["average"] is average and summary["per_episode"][0]["q_estimate"] == 1.0
        assert set(games[-1].actions) == {action}
