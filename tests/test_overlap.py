"""Updates overlapped with the next env steps (sb3_mario.agent.overlap, DoubleDQN(overlap_updates=True))."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import yaml

pytestmark = pytest.mark.needs_torch

th = pytest.importorskip("torch")

from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402

from sb3_mario import DoubleDQN, make_mario_vec_env  # noqa: E402
from sb3_mario.agent.buffers import FrameDedupReplayBuffer  # noqa: E402
from sb3_mario.agent.overlap import BackgroundUpdates  # noqa: E402


def _net() -> th.nn.Module:
    return th.nn.Linear(2, 1)


def test_a_forward_pass_from_another_thread_waits_for_the_updates():
    net = _net()
    updates = BackgroundUpdates(net)
    done = threading.Event()

    def slow() -> int:
        time.sleep(0.3)
        done.set()
        return 7

    updates.start(slow)
    net(th.zeros(1, 2))  # the main thread: waits
    assert done.is_set()
    assert updates.result() == 7
    assert updates.result() is None  # handed over once
    updates.close()


def test_the_worker_runs_the_network_without_waiting_for_itself():
    net = _net()
    updates = BackgroundUpdates(net)
    updates.start(lambda: net(th.ones(1, 2)).item())
    expected = net(th.ones(1, 2)).item()
    assert updates.close() == pytest.approx(expected)
    assert not net._forward_pre_hooks  # close() removed the hook


def test_an_error_in_the_updates_is_raised_in_the_caller():
    updates = BackgroundUpdates(_net())

    def fail() -> None:
        raise FloatingPointError("loss is nan")

    updates.start(fail)
    with pytest.raises(FloatingPointError, match="loss is nan"):
        updates.close()


def test_the_updates_run_with_the_callers_torch_threads():
    """A thread keeps the thread count torch had when it first ran an op: the worker follows the caller's."""
    before = th.get_num_threads()
    updates = BackgroundUpdates(_net())
    try:
        th.set_num_threads(2)
        updates.start(th.get_num_threads)
        assert updates.result() == 2
        th.set_num_threads(1)
        updates.start(th.get_num_threads)
        assert updates.result() == 1
    finally:
        updates.close()
        th.set_num_threads(before)


def test_a_second_start_before_the_result_is_refused():
    updates = BackgroundUpdates(_net())
    updates.start(lambda: 1)
    with pytest.raises(RuntimeError, match="in flight"):
        updates.start(lambda: 2)
    assert updates.close() == 1


class _Transitions(BaseCallback):
    """Every collected transition: actions, rewards, dones, and the exploration rate of each step."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple] = []

    def _on_step(self) -> bool:
        self.rows.append(
            (
                self.locals["actions"].tolist(),
                self.locals["rewards"].tolist(),
                self.locals["dones"].tolist(),
                self.model.exploration_rate,
            )
        )
        return True


def _train(
    overlap: bool, learning_rate: float, steps: int = 400, priority_alpha: float = 0.0
) -> tuple[DoubleDQN, _Transitions, float]:
    """A short run on the scripted game; also the global random stream's next draw after it."""
    env = make_mario_vec_env(2, "1-1", seed=5, vec_env="dummy")
    model = DoubleDQN(
        "MarioCnnPolicy",
        env,
        learning_rate=learning_rate,
        buffer_size=1_000,
        replay_buffer_class=FrameDedupReplayBuffer,
        replay_buffer_kwargs={"n_steps": 3, "gamma": 0.9, "priority_alpha": priority_alpha},
        gamma=0.9,
        batch_size=8,
        learning_starts=40,
        train_freq=4,
        gradient_steps=2,
        target_update_interval=60,  # copies while updates are in flight
        exploration_fraction=0.5,
        exploration_final_eps=0.3,  # epsilon draws interleave with the batch draws all along
        overlap_updates=overlap,
        seed=11,
        device="cpu",
    )
    record = _Transitions()
    model.learn(steps, callback=record)
    return model, record, float(np.random.rand())


def _episode_rewards(n: int) -> list[float]:
    return [float((t * 7) % 5 - 1) for t in range(n)]


def test_with_fixed_weights_overlapped_and_synchronous_loops_store_identical_transitions(scripted):
    scripted(_episode_rewards(37))
    sync_model, sync, sync_draw = _train(overlap=False, learning_rate=0.0)
    overlap_model, overlapped, overlap_draw = _train(overlap=True, learning_rate=0.0)

    assert len(sync.rows) == len(overlapped.rows) == 200  # 400 steps over 2 envs
    assert sync.rows == overlapped.rows
    actions = {a for row in sync.rows for a in row[0]}
    assert len(actions) >= 3  # greedy and random actions both
    a, b = sync_model.replay_buffer, overlap_model.replay_buffer
    for name in ("frames", "actions", "rewards", "dones", "timeouts", "is_start"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    # the same updates, counted and logged once each, and the same number of random draws
    assert sync_model._n_updates == overlap_model._n_updates == 2 * ((400 - 40) // 8)
    assert overlap_model.logger.name_to_value["train/loss"] == pytest.approx(
        sync_model.logger.name_to_value["train/loss"]
    )
    assert sync_draw == overlap_draw
    assert overlap_model._updates is None and overlap_model._actor is None  # the worker is gone after learn()


def test_with_prioritized_replay_the_training_thread_sets_the_priorities_and_a_seed_repeats_its_run(
    scripted, monkeypatch
):
    """New transitions get the largest priority so far: were the worker to set priorities while the envs add
    transitions, a run would depend on the threads' timing."""
    scripted(_episode_rewards(37))
    threads = []
    update_priorities = FrameDedupReplayBuffer.update_priorities

    def record(buffer, slots, td_errors):
        threads.append(threading.get_ident())
        update_priorities(buffer, slots, td_errors)

    monkeypatch.setattr(FrameDedupReplayBuffer, "update_priorities", record)
    runs = [_train(overlap=True, learning_rate=1e-3, steps=300, priority_alpha=0.5) for _ in range(2)]
    assert set(threads) == {threading.get_ident()} and len(threads) == 2 * runs[0][0]._n_updates
    (first, first_rows, _), (second, second_rows, _) = runs
    assert first_rows.rows == second_rows.rows
    slots = np.arange(first.replay_buffer.priorities.capacity)
    np.testing.assert_array_equal(first.replay_buffer.priorities.get(slots), second.replay_buffer.priorities.get(slots))
    assert first.replay_buffer.max_priority == second.replay_buffer.max_priority > 1.0
    for p, q in zip(first.q_net.parameters(), second.q_net.parameters(), strict=True):
        assert th.equal(p, q)


def test_overlapped_training_learns_and_saves_what_it_learnt(scripted, tmp_path):
    scripted(_episode_rewards(37))
    model, _, _ = _train(overlap=True, learning_rate=1e-3, steps=200)
    fresh = DoubleDQN("MarioCnnPolicy", model.get_env(), buffer_size=10, seed=11, device="cpu")  # the same start
    start = [p.detach().clone() for p in fresh.q_net.parameters()]
    assert any(not th.equal(p, q) for p, q in zip(model.q_net.parameters(), start, strict=True))
    model.save(tmp_path / "model.zip")
    loaded = DoubleDQN.load(tmp_path / "model.zip", device="cpu")
    assert loaded.overlap_updates is True and loaded._updates is None
    for p, q in zip(model.q_net.parameters(), loaded.q_net.parameters(), strict=True):
        th.testing.assert_close(p, q)


def test_the_run_config_knows_overlap_updates_and_the_keywords_it_passes_on():
    from sb3_mario.errors import ConfigError
    from sb3_mario.run.config import check_hyperparams, constructor_defaults

    defaults = constructor_defaults(DoubleDQN)
    assert defaults["overlap_updates"] is False  # DoubleDQN's own keyword
    assert defaults["gamma"] == 0.99 and defaults["learning_starts"] == 100  # DQN's, through **kwargs
    check_hyperparams({"overlap_updates": True, "gamma": 0.9}, "ddqn")
    with pytest.raises(ConfigError, match="overlap_updates must be true or false"):
        check_hyperparams({"overlap_updates": "yes"}, "ddqn")
    with pytest.raises(ConfigError, match="unknown hyperparameter 'overlap_updates' for dqn"):
        check_hyperparams({"overlap_updates": True}, "dqn")


def test_a_run_with_overlapped_updates_evaluates_checkpoints_and_resumes(scripted, tmp_path):
    from sb3_mario.run.config import resolve
    from sb3_mario.run.training import resume, train

    scripted(_episode_rewards(37))
    config = resolve(
        hyperparams={
            "n_timesteps": 300, "n_envs": 2, "buffer_size": 600, "learning_starts": 40, "overlap_updates": True,
        },
        settings={"vec_env": "dummy", "eval_freq": 100, "eval_episodes": 2, "checkpoint_freq": 100, "device": "cpu"},
    )  # fmt: skip
    model = train(config, tmp_path, progress_bar=False)
    assert model.num_timesteps == 300 and model._n_updates == 2 * ((300 - 40) // 8)
    history = np.load(tmp_path / "eval" / "evaluations.npz")
    assert history["timesteps"].tolist() == [100, 200, 300]
    saved = DoubleDQN.load(tmp_path / "checkpoints" / "model.zip", device="cpu")
    for p, q in zip(model.q_net.parameters(), saved.q_net.parameters(), strict=True):
        th.testing.assert_close(p, q)  # the checkpoint holds the weights after every update in flight
    doc = config.to_dict()
    doc["hyperparams"]["n_timesteps"] = 400
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(doc))
    resumed = resume(tmp_path, progress_bar=False)
    assert resumed.num_timesteps == 400 and resumed.overlap_updates is True
