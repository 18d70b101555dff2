"""DoubleDQN(mixed_precision=True): bfloat16 features in the gradient steps, float32 everywhere else."""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.needs_torch

th = pytest.importorskip("torch")

from sb3_mario import DoubleDQN, make_mario_vec_env  # noqa: E402
from sb3_mario.agent.buffers import FrameDedupReplayBuffer  # noqa: E402


def _model(mixed: bool, overlap: bool = False, learning_starts: int = 40) -> DoubleDQN:
    return DoubleDQN(
        "MarioCnnPolicy",
        make_mario_vec_env(2, "1-1", seed=5, vec_env="dummy"),
        learning_rate=1e-3,
        buffer_size=1_000,
        replay_buffer_class=FrameDedupReplayBuffer,
        replay_buffer_kwargs={"n_steps": 3, "gamma": 0.9},
        gamma=0.9,
        batch_size=8,
        learning_starts=learning_starts,
        train_freq=4,
        gradient_steps=2,
        mixed_precision=mixed,
        overlap_updates=overlap,
        seed=11,
        device="cpu",
    )


class _Dtypes:
    """Forward hooks on a Q-network: (batch size, features' dtype, Q-values' dtype, thread) of each pass."""

    def __init__(self, q_net: th.nn.Module):
        self.calls: list[tuple[int, th.dtype, th.dtype, str]] = []
        self._features: th.dtype | None = None
        q_net.features_extractor.register_forward_hook(self._on_features)
        q_net.q_net.register_forward_hook(self._on_head)

    def _on_features(self, module, inputs, output) -> None:
        self._features = output.dtype

    def _on_head(self, module, inputs, output) -> None:
        self.calls.append((output.shape[0], self._features, output.dtype, threading.current_thread().name))


def _rewards(n: int) -> list[float]:
    return [float((t * 7) % 5 - 1) for t in range(n)]


@pytest.mark.parametrize("overlap", [False, True])
def test_gradient_steps_run_the_features_in_bfloat16_and_acting_in_float32(scripted, overlap):
    scripted(_rewards(37))
    model = _model(mixed=True, overlap=overlap)
    online, target = _Dtypes(model.q_net), _Dtypes(model.q_net_target)
    model.learn(120)  # 60 calls of 2 envs: 20 random before learning_starts, then epsilon-greedy and updates

    training = [call for call in online.calls if call[0] == 8]  # the batches: online on s' and on s
    acting = [call for call in online.calls if call[0] == 2]  # greedy actions for both envs
    assert len(training) == 2 * model._n_updates and model._n_updates == 2 * ((120 - 40) // 8)
    assert {call[1:3] for call in training} == {(th.bfloat16, th.float32)}  # the Q head stays float32
    assert len(target.calls) == model._n_updates and {c[1:3] for c in target.calls} == {(th.bfloat16, th.float32)}
    if overlap:  # the worker thread enters the autocast itself (it is thread-local); acting uses a copy
        assert {call[3].split("_")[0] for call in training} == {"sb3-mario-updates"} and acting == []
    else:
        assert 0 < len(acting) <= 40 and {call[1:3] for call in acting} == {(th.float32, th.float32)}
    assert all(p.dtype == th.float32 for p in model.policy.parameters())
    q = model.predict(model._last_obs, deterministic=True)[0]
    assert q.shape == (2,)
    assert online.calls[-1][1:3] == (th.float32, th.float32)  # predict is float32


def test_a_mixed_precision_step_is_a_bfloat16_rounding_of_the_float32_step(scripted):
    scripted(_rewards(37))
    model = _model(mixed=False, learning_starts=200)
    model.learn(200)  # transitions only: no update yet
    batch = model.replay_buffer.sample(32)
    params = list(model.policy.parameters())
    start = {k: v.clone() for k, v in model.policy.state_dict().items()}
    optimizer = {k: v for k, v in model.policy.optimizer.state_dict().items()}

    steps = {}
    for mixed in (False, True):
        model.policy.load_state_dict(start)
        model.policy.optimizer.load_state_dict(optimizer)
        model.mixed_precision = mixed
        with th.no_grad():
            q = model._q_values(model.q_net, batch.observations)
        loss = model._gradient_steps([batch], params).losses[0]
        delta = th.cat([(p.detach() - start[k]).flatten() for k, p in model.policy.state_dict().items()])
        steps[mixed] = q, loss, delta

    (q32, loss32, delta32), (q16, loss16, delta16) = steps[False], steps[True]
    assert not th.equal(q16, q32)  # the autocast took effect ...
    th.testing.assert_close(q16, q32, rtol=2e-2, atol=2e-3)  # ... to bfloat16's 8 bits of mantissa
    assert loss16 == pytest.approx(loss32, rel=2e-2)
    # Adam's first step moves every weight by about the learning rate, in the sign of its gradient
    cosine = th.nn.functional.cosine_similarity(delta16, delta32, dim=0).item()
    assert cosine > 0.98
    assert delta16.abs().max().item() == pytest.approx(1e-3, rel=0.05)


def test_mixed_precision_is_saved_and_refused_by_sb3_dqn(tmp_path, scripted):
    from sb3_mario.errors import ConfigError
    from sb3_mario.run.config import check_hyperparams, constructor_defaults

    scripted(_rewards(37))
    _model(mixed=True).save(tmp_path / "model.zip")
    assert DoubleDQN.load(tmp_path / "model.zip", device="cpu").mixed_precision is True
    assert constructor_defaults(DoubleDQN)["mixed_precision"] is False
    check_hyperparams({"mixed_precision": True}, "ddqn")
    with pytest.raises(ConfigError, match="unknown hyperparameter 'mixed_precision' for dqn"):
        check_hyperparams({"mixed_precision": True}, "dqn")
