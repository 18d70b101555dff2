"""EvalCallback: the evaluation history and best models of a resumed run, on the scripted game."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

th = pytest.importorskip("torch")

from stable_baselines3.common.logger import KVWriter, Logger  # noqa: E402

pytestmark = pytest.mark.needs_torch


def resume_at_250(tmp_path: Path, scripted, n_episodes: int, flag: bool = False):
    """Learn 5 steps from step 250 with an evaluation at step 255: a run resumed from a checkpoint.
    Every evaluation episode earns 3.0 in 3 frames (one agent step) and wins when ``flag``."""
    from stable_baselines3 import DQN

    from sb3_mario import make_mario_env, make_mario_vec_env
    from sb3_mario.run.callbacks import EvalCallback

    scripted([1.0] * 3, flag=flag)
    model = DQN("MlpPolicy", make_mario_vec_env(1), learning_starts=10_000, buffer_size=100, seed=0, device="cpu")
    model.num_timesteps = 250
    callback = EvalCallback(make_mario_env("1-1"), n_episodes, eval_freq=5, log_dir=tmp_path, seed=0)
    model.learn(5, callback=callback, reset_num_timesteps=False)
    return callback


class _Dumps(KVWriter):
    """What the logger dumps, one dict per dump."""

    def __init__(self):
        self.values: list[dict] = []

    def write(self, key_values: dict, key_excluded: dict, step: int = 0) -> None:
        self.values.append(dict(key_values))


def write_history(tmp_path: Path) -> None:
    """Evaluations at 100, 200 and 300 (the last after the checkpoint at 250), 2 episodes each."""
    np.savez(
        tmp_path / "evaluations.npz",
        timesteps=[100, 200, 300],
        results=[[1.0, 2.0], [4.0, 4.0], [9.0, 9.0]],
        ep_lengths=[[4, 5], [3, 3], [6, 6]],
        successes=[[False, True], [False, False], [True, True]],
    )


def test_a_resumed_run_continues_the_evaluations_up_to_its_checkpoint(tmp_path: Path, scripted):
    write_history(tmp_path)
    callback = resume_at_250(tmp_path, scripted, n_episodes=2)
    saved = np.load(tmp_path / "evaluations.npz")
    assert saved["timesteps"].tolist() == [100, 200, 255]
    assert saved["results"].tolist() == [[1.0, 2.0], [4.0, 4.0], [3.0, 3.0]]
    assert saved["ep_lengths"].tolist() == [[4, 5], [3, 3], [1, 1]]
    assert saved["successes"].tolist() == [[False, True], [False, False], [False, False]]
    # a key the old history did not keep: unknown (NaN) for its evaluations; the scripted episode ends at x_pos 43
    np.testing.assert_array_equal(saved["mean_x_pos"], [np.nan, np.nan, 43.0])
    for key in ("q_estimate", "discounted_return"):  # the same for each key, apart
        assert len(saved[key]) == 3 and np.isnan(saved[key][:2]).all() and np.isfinite(saved[key][2])
    # 3.0 falls short of the 4.0 kept from step 200: the best model stays the earlier one
    assert callback.best_mean_reward == 4.0 and not (tmp_path / "best_model.zip").exists()


def test_a_history_with_another_episode_count_is_kept_beside_the_new_one(tmp_path: Path, scripted):
    write_history(tmp_path)
    resume_at_250(tmp_path, scripted, n_episodes=3)
    assert np.load(tmp_path / "evaluations-until-300.npz")["timesteps"].tolist() == [100, 200, 300]
    saved = np.load(tmp_path / "evaluations.npz")
    assert saved["timesteps"].tolist() == [255] and saved["results"].tolist() == [[3.0, 3.0, 3.0]]
    assert (tmp_path / "best_model.zip").exists()  # a fresh history: the first evaluation is the best


@pytest.mark.parametrize("flag", [False, True])
def test_the_best_win_rate_model_is_kept_by_win_rate_before_mean_reward(tmp_path: Path, scripted, flag: bool):
    write_history(tmp_path)  # kept up to 250: win rates 0.5 (mean reward 1.5) and 0.0 (4.0)
    callback = resume_at_250(tmp_path, scripted, n_episodes=2, flag=flag)
    if flag:  # 2 wins of 2 beat 1 of 2, whatever the mean reward
        assert callback.best_win_score == (1.0, 3.0) and (tmp_path / "best_win_rate_model.zip").exists()
    else:
        assert callback.best_win_score == (0.5, 1.5) and not (tmp_path / "best_win_rate_model.zip").exists()


def test_a_new_run_starts_its_history_and_keeps_its_first_models(tmp_path: Path, scripted):
    callback = resume_at_250(tmp_path, scripted, n_episodes=2)
    assert np.load(tmp_path / "evaluations.npz")["timesteps"].tolist() == [255]
    assert callback.best_mean_reward == 3.0 and callback.best_win_score == (0.0, 3.0)
    assert (tmp_path / "best_model.zip").exists() and (tmp_path / "best_win_rate_model.zip").exists()
    # SB3's DQN keeps no average of its weights: nothing of one in the history, no best model of one
    saved = np.load(tmp_path / "evaluations.npz")
    assert np.isnan(saved["average_wins"]).all() and np.isnan(saved["average_mean_x_pos"]).all()
    assert not (tmp_path / "best_average_model.zip").exists()


def test_a_model_with_an_average_of_weights_evaluates_it_on_the_same_starts(tmp_path: Path, scripted):
    """The average plays each evaluation's episodes too; its best model is kept by wins, then final x_pos,
    also across a resume."""
    from sb3_mario import DoubleDQN, make_mario_env, make_mario_vec_env
    from sb3_mario.run.callbacks import EvalCallback

    games = scripted([1.0] * 3, flag=True)
    model = DoubleDQN(
        "MlpPolicy", make_mario_vec_env(1), learning_starts=10_000, buffer_size=100, average_tau=0.005, device="cpu"
    )
    with th.no_grad():  # the average always presses right+A+B (action 4), the online network NOOP (0)
        for network, best in ((model.q_net, 0), (model.q_net_average, 4)):
            layer = network.q_net[-1]
            layer.weight.zero_()
            layer.bias.copy_(th.eye(5)[best])
    dumps = _Dumps()
    model.set_logger(Logger(folder=None, output_formats=[dumps]))
    callback = EvalCallback(make_mario_env("1-1"), 2, eval_freq=5, log_dir=tmp_path, seed=0)
    model.learn(10, callback=callback)
    saved = np.load(tmp_path / "evaluations.npz")
    assert saved["average_wins"].tolist() == [2.0, 2.0] and saved["average_mean_x_pos"].tolist() == [43.0, 43.0]
    logged = [{k: v for k, v in d.items() if k.startswith("eval/average")} for d in dumps.values if "eval/wins" in d]
    expected = {"eval/average_wins": 2, "eval/average_mean_final_x_pos": 43.0, "eval/average_mean_reward": 3.0}
    assert logged == [expected, expected]  # in each evaluation's dump
    # each evaluation: 2 episodes (3 frames each) of the online network, then 2 of the average
    training, evaluation = games
    assert evaluation.actions == ([0] * 6 + [4] * 6) * 2
    assert callback.best_average_score == (2.0, 43.0) and (tmp_path / "best_average_model.zip").exists()
    (tmp_path / "best_average_model.zip").unlink()
    resumed = EvalCallback(make_mario_env("1-1"), 2, eval_freq=5, log_dir=tmp_path, seed=0)
    model.learn(5, callback=resumed, reset_num_timesteps=False)
    assert resumed.best_average_score == (2.0, 43.0)  # from the history: a tie keeps the model kept before
    assert not (tmp_path / "best_average_model.zip").exists()


def test_every_evaluation_plays_the_same_starts(tmp_path: Path, scripted):
    """In-turn no-op starts begin again at each evaluation: 3 episodes with noop_max 4 play 0, 1, 2 each time."""
    from stable_baselines3 import DQN

    from sb3_mario import make_mario_env, make_mario_vec_env
    from sb3_mario.run.callbacks import EvalCallback

    scripted([1.0] * 20)
    model = DQN("MlpPolicy", make_mario_vec_env(1), learning_starts=10_000, buffer_size=100, seed=0, device="cpu")
    env = make_mario_env("1-1", noop_max=4, noop_in_turn=True)
    callback = EvalCallback(env, 3, eval_freq=4, seed=5)
    model.learn(8, callback=callback)
    assert callback.history["timesteps"] == [4, 8]
    assert callback.history["results"] == [[20.0, 19.0, 18.0]] * 2  # 20 frames less the no-op frames


@pytest.mark.parametrize("stop", [False, True])
def test_an_evaluation_that_wins_every_start_checks_the_bar(tmp_path: Path, scripted, stop: bool):
    """The scripted flag game is won whatever the actions: the bar's tests win 4 of 4 each, at the
    first evaluation; with stop_at_bar training ends there."""
    import functools

    from stable_baselines3 import DQN

    from sb3_mario import make_mario_env, make_mario_vec_env
    from sb3_mario.run.callbacks import EvalCallback
    from sb3_mario.run.config import resolve
    from sb3_mario.run.evaluation import Bar

    scripted([1.0] * 3, flag=True)
    bar = Bar(episodes=4)
    check = functools.partial(bar.check, config=resolve(), seed=0)
    assert check(DQN("MlpPolicy", make_mario_vec_env(1), buffer_size=100, device="cpu")) == {
        "epsilon_win_rate": 1.0,
        "sticky_win_rate": 1.0,
        "seeds": 2,
        "met": True,
    }
    model = DQN("MlpPolicy", make_mario_vec_env(1), learning_starts=10_000, buffer_size=100, train_freq=1, device="cpu")
    callback = EvalCallback(make_mario_env("1-1"), 2, 5, tmp_path, seed=0, bar_check=check, stop_at_bar=stop)
    model.learn(10, callback=callback)
    assert model.num_timesteps == (5 if stop else 10)
    assert callback.bar_met_at == 5 and (tmp_path / "bar_model.zip").exists()
    assert int(np.load(tmp_path / "evaluations.npz")["bar_met_at"]) == 5
    assert model.logger.name_to_value.get("eval/sticky_success_rate", 1.0) == 1.0


@pytest.mark.parametrize("average_meets", [False, True])
def test_the_average_of_weights_is_held_to_the_bar_too(tmp_path: Path, scripted, average_meets: bool):
    """Both networks win every start of the scripted flag game: the bar is checked for each, the online network
    first. Here only the average meets it, or both do: with stop_at_bar, either stops training."""
    from sb3_mario import DoubleDQN, make_mario_env, make_mario_vec_env
    from sb3_mario.run.callbacks import EvalCallback

    scripted([1.0] * 3, flag=True)
    model = DoubleDQN(
        "MlpPolicy", make_mario_vec_env(1), learning_starts=10_000, buffer_size=100, average_tau=0.005, device="cpu"
    )
    played = []

    def check(model, network=None):
        played.append(network)
        met = network is not None or not average_meets  # the average meets it; the online network only with it
        return {"epsilon_win_rate": 0.95, "sticky_win_rate": 0.9 if met else 0.5, "met": met}

    callback = EvalCallback(make_mario_env("1-1"), 2, 5, tmp_path, seed=0, bar_check=check, stop_at_bar=True)
    model.learn(10, callback=callback)
    assert model.num_timesteps == 5 and played == [None, model.q_net_average]
    assert callback.average_bar_met_at == 5 and (tmp_path / "average_bar_model.zip").exists()
    saved = np.load(tmp_path / "evaluations.npz")
    assert int(saved["average_bar_met_at"]) == 5
    if average_meets:
        assert callback.bar_met_at is None and "bar_met_at" not in saved.files
    else:
        assert callback.bar_met_at == 5 and int(saved["bar_met_at"]) == 5
    resumed = EvalCallback(make_mario_env("1-1"), 2, 5, tmp_path, seed=0, bar_check=check)
    resumed.init_callback(model)
    assert (resumed.bar_met_at, resumed.average_bar_met_at) == (callback.bar_met_at, 5)


@pytest.mark.parametrize(
    ("wins", "expected"),
    [
        # seed 7 passes both tests, seed 8 falls short with epsilon: not met, its lower rates reported
        ({7: (92, 95), 8: (86, 97)}, {"epsilon_win_rate": 0.86, "sticky_win_rate": 0.95, "seeds": 2, "met": False}),
        ({7: (90, 90), 8: (93, 91)}, {"epsilon_win_rate": 0.90, "sticky_win_rate": 0.90, "seeds": 2, "met": True}),
        # seed 7 fails: seed 8 is not played
        ({7: (95, 89)}, {"epsilon_win_rate": 0.95, "sticky_win_rate": 0.89, "seeds": 1, "met": False}),
    ],
)
def test_the_bar_holds_for_two_seeds_in_a_row(scripted, monkeypatch, wins: dict, expected: dict):
    """Each seed plays both tests as ``sb3-mario evaluate --seed S`` would (its play and epsilon streams), the
    second only after the first passed."""
    from stable_baselines3 import DQN

    import sb3_mario.run.evaluation as evaluation
    from sb3_mario import make_mario_vec_env
    from sb3_mario.run.config import resolve
    from sb3_mario.run.seeding import seed_for

    scripted([1.0])
    by_play_seed = {seed_for(seed, "play"): (seed, won) for seed, won in wins.items()}
    played = []

    def play_episodes(env, player, n_episodes, seed):
        test = 0 if player.epsilon > 0 else 1  # the epsilon test, then the sticky-action one
        run_seed, won = by_play_seed[seed]
        assert player.rng.bit_generator.seed_seq.entropy == seed_for(run_seed, "epsilon") and n_episodes == 100
        played.append((run_seed, test))
        return [evaluation.Episode(reward=0.0, length=1, win=i < won[test], x_pos=0) for i in range(n_episodes)]

    monkeypatch.setattr(evaluation, "play_episodes", play_episodes)
    model = DQN("MlpPolicy", make_mario_vec_env(1), buffer_size=100, device="cpu")
    assert evaluation.Bar().check(model, config=resolve(), seed=7) == expected
    assert played == [(seed, test) for seed in wins for test in (0, 1)]


def test_the_bar_is_not_checked_until_every_start_is_won(tmp_path: Path, scripted):
    from stable_baselines3 import DQN

    from sb3_mario import make_mario_env, make_mario_vec_env
    from sb3_mario.run.callbacks import EvalCallback

    scripted([1.0] * 3, flag=False)
    calls = []
    model = DQN("MlpPolicy", make_mario_vec_env(1), learning_starts=10_000, buffer_size=100, train_freq=1, device="cpu")
    callback = EvalCallback(make_mario_env("1-1"), 2, 5, tmp_path, seed=0, bar_check=calls.append, stop_at_bar=True)
    model.learn(10, callback=callback)
    assert calls == [] and model.num_timesteps == 10 and callback.bar_met_at is None
    assert "bar_met_at" not in np.load(tmp_path / "evaluations.npz").files


def test_an_evaluation_of_several_levels_logs_the_wins_of_each(tmp_path: Path, scripted, monkeypatch):
    from stable_baselines3 import DQN
    from stable_baselines3.common.logger import configure

    import sb3_mario.run.callbacks as callbacks
    from sb3_mario import make_mario_env, make_mario_vec_env
    from sb3_mario.run.evaluation import Episode

    scripted([1.0] * 3)
    games = ["1-2", "1-1", "1-2", "1-2", "1-1"]  # the levels the evaluation draws; 1-2 won twice
    episodes = [Episode(0.0, 1, win=i in (0, 3), x_pos=10 * i, level=level) for i, level in enumerate(games)]
    monkeypatch.setattr(callbacks, "play_episodes", lambda *args, **kwargs: episodes)
    model = DQN("MlpPolicy", make_mario_vec_env(1), learning_starts=10_000, buffer_size=100, train_freq=1, device="cpu")
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(5, callback=callbacks.EvalCallback(make_mario_env("1-1"), 5, 5))
    (row,) = [r for r in csv.DictReader(open(tmp_path / "progress.csv")) if r["eval/wins"]]
    assert {k: row[k] for k in row if k.startswith("eval/") and "_1-" in k} == {
        "eval/wins_1-1": "0",
        "eval/episodes_1-1": "2",
        "eval/wins_1-2": "2",
        "eval/episodes_1-2": "3",
    }


def test_the_episode_log_of_a_resumed_run_carries_on_its_clock(tmp_path: Path, scripted):
    """Every episode earns 3.0 in 3 frames (one agent step): each step from step 250 logs one. The log
    ends with a replayed episode, whose time the clock carries on from."""
    import csv
    import time

    from stable_baselines3 import DQN

    from sb3_mario import make_mario_vec_env
    from sb3_mario.run.callbacks import WinRateCallback
    from sb3_mario.run.episodes import EPISODE_FIELDS, read_episodes

    scripted([1.0] * 3)
    path = tmp_path / "episodes.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(
            [EPISODE_FIELDS, (1, 249, 3.0, 1, 0, 40, "1-1", 4990.0, 0), (2, 250, 3.0, 1, 0, 40, "1-1", 5000.0, 120)]
        )
    model = DQN("MlpPolicy", make_mario_vec_env(1), learning_starts=10_000, buffer_size=100, seed=0, device="cpu")
    model.num_timesteps = 250
    start = time.time()
    model.learn(5, callback=WinRateCallback(path), reset_num_timesteps=False)
    elapsed = time.time() - start
    rows = read_episodes(path)
    assert [(int(r["episode"]), int(r["timestep"])) for r in rows] == [(k, 248 + k) for k in range(1, len(rows) + 1)]
    assert len(rows) > 6
    assert all(5000.0 <= float(r["wall_time"]) <= 5000.0 + elapsed + 0.1 for r in rows[2:])


def test_episodes_that_began_part_way_are_logged_but_left_out_of_the_rates(tmp_path: Path, scripted):
    """An episode log written before ``replayed_frames`` existed is rewritten with it (0) on a resume;
    episodes replayed from part-way go to the CSV with their frame count, not into the window's rates."""
    import csv

    from stable_baselines3 import DQN
    from stable_baselines3.common.logger import configure

    from sb3_mario import make_mario_vec_env
    from sb3_mario.run.callbacks import WinRateCallback
    from sb3_mario.run.episodes import EPISODE_FIELDS, read_episodes, truncate_episodes

    scripted([1.0] * 3)
    path = tmp_path / "episodes.csv"
    with open(path, "w", newline="") as f:  # the columns before replayed_frames
        csv.writer(f).writerows([EPISODE_FIELDS[:-1], (1, 250, 3.0, 1, 1, 3161, "1-1", 50.0)])
    truncate_episodes(path, 1_000)
    assert read_episodes(path) == [dict(zip(EPISODE_FIELDS, "1 250 3.0 1 1 3161 1-1 50.0 0".split(), strict=True))]
    model = DQN("MlpPolicy", make_mario_vec_env(1), buffer_size=100, seed=0, device="cpu")
    model.set_logger(configure(None, []))
    callback = WinRateCallback(path, window=3)
    callback.init_callback(model)
    callback.on_training_start({}, {})

    def episode(win: bool, x_pos: int, replayed: int) -> dict:
        return {
            "r": 1.0,
            "l": 1,
            "is_success": win,
            "x_pos": x_pos,
            "world": 1,
            "stage": 1,
            "replayed_frames": replayed,
        }

    callback.locals = {
        "dones": [True, True, True],
        "infos": [
            {"episode": episode(True, 3161, 900)},
            {"episode": episode(False, 200, 0)},
            {"episode": episode(False, 500, 0)},
        ],
    }
    callback.on_step()
    callback._on_training_end()
    values = model.logger.name_to_value
    assert values["rollout/episodes"] == 4
    assert values["rollout/win_rate"] == pytest.approx(100.0 / 3)  # the old win, the two losses from the start
    assert values["rollout/mean_final_x_pos"] == pytest.approx((3161 + 200 + 500) / 3)
    assert [r["replayed_frames"] for r in read_episodes(path)] == ["0", "900", "0", "0"]


def test_a_checkpoint_keeps_the_episodes_replayed_starts_go_on_from_and_a_resume_restores_them(
    tmp_path: Path, scripted
):
    import pickle

    from sb3_mario.run.callbacks import REPLAY_STARTS
    from sb3_mario.run.config import resolve
    from sb3_mario.run.training import load_checkpoint, train

    # x_pos 41, 42, ... per frame of 120-frame episodes: every kept episode is cut at its last frame
    scripted([0.0] * 120)
    config = resolve(
        hyperparams={
            "n_timesteps": 200, "n_envs": 2, "buffer_size": 400, "learning_starts": 40,
            "env_kwargs": {"replay_start_probability": 0.5},
        },
        settings={"vec_env": "dummy", "eval_freq": 0, "checkpoint_freq": 100, "device": "cpu"},
    )  # fmt: skip
    model = train(config, tmp_path, progress_bar=False)
    trained = [pools["1-1"] for pools in model.get_env().get_attr("pools")]
    saved = pickle.loads((tmp_path / "checkpoints" / REPLAY_STARTS).read_bytes())
    assert [list(pools) for pools in saved] == [["1-1"], ["1-1"]]  # one env's pools each, by level
    assert all(len(pools["1-1"]) > 0 for pools in saved)  # each with episodes
    # and as a checkpoint of the time when each env kept one pool, a list, not pools by level
    (tmp_path / "legacy" / "checkpoints").mkdir(parents=True)
    for name in ("model.zip", "replay_buffer.pkl", "checkpoint.json"):
        (tmp_path / "legacy" / "checkpoints" / name).write_bytes((tmp_path / "checkpoints" / name).read_bytes())
    (tmp_path / "legacy" / "checkpoints" / REPLAY_STARTS).write_bytes(pickle.dumps([pools["1-1"] for pools in saved]))
    for run_dir in (tmp_path, tmp_path / "legacy"):
        restored = load_checkpoint(config, run_dir).get_env().get_attr("pools")
        assert [list(pools) for pools in restored] == [["1-1"], ["1-1"]]
        for pools, kept in zip(restored, trained, strict=True):
            assert [x for x, _ in pools["1-1"]] == [x for x, _ in kept]
            for (_, frames), (_, kept_frames) in zip(pools["1-1"], kept, strict=True):
                assert frames.dtype == np.uint8
                np.testing.assert_array_equal(frames, kept_frames)
    model.get_env().close()

    # without replayed starts a checkpoint has no such file
    plain = resolve(
        hyperparams={"n_timesteps": 100, "n_envs": 1, "buffer_size": 200, "learning_starts": 40, "env_kwargs": {}},
        settings={"vec_env": "dummy", "eval_freq": 0, "checkpoint_freq": 100, "device": "cpu"},
    )
    train(plain, tmp_path / "plain", progress_bar=False)
    assert not (tmp_path / "plain" / "checkpoints" / REPLAY_STARTS).exists()
