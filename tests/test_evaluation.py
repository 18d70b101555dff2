"""Evaluation: every no-op start in turn, the evaluation env, the Q estimate against the discounted return."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.needs_torch


@pytest.mark.parametrize("flag", [False, True])
def test_all_starts_plays_each_noop_count_in_turn(model_zip: Path, scripted, flag: bool):
    from sb3_mario.run.evaluation import PlaySettings, evaluate, format_summary

    scripted([1.0] * 40, flag=flag)  # 1 per frame for 40 frames: an episode after k no-ops earns 40 - k
    summary = evaluate(model_zip, PlaySettings(episodes=8, noop_max=3, all_starts=True, device="cpu"))
    per_episode = summary["per_episode"]
    assert [e["noops"] for e in per_episode] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert [e["reward"] for e in per_episode] == [40.0, 39.0, 38.0, 37.0] * 2
    assert [e["length"] for e in per_episode] == [10, 10, 10, 10] * 2  # ceil((40 - k) / 4) agent steps
    assert [e["win"] for e in per_episode] == [flag] * 8
    assert summary["lost_starts"] == ([] if flag else [0, 1, 2, 3])
    assert ("lost starts  none" if flag else "lost starts  0, 1, 2, 3 (no-op frames)") in format_summary(summary)


def test_lost_at_counts_the_lost_episodes_by_stretch_of_the_level():
    from sb3_mario.run.evaluation import Episode, format_summary, lost_at, summarize

    def ended(x_pos: int, win: bool = False) -> Episode:
        return Episode(reward=0.0, length=1, win=win, x_pos=x_pos)

    episodes = [ended(x) for x in (594, 601, 699, 898, 1_270, 1_299, 40)] + [ended(3_161, win=True)]
    # the most frequent stretch first, ties from the level's start; wins are not counted
    assert lost_at(episodes) == [(600, 2), (1_200, 2), (0, 1), (500, 1), (800, 1)]
    assert lost_at([ended(3_161, win=True)]) == []
    summary = {**summarize(episodes), "noop_max": 0, "all_starts": False, "epsilon": 0.0}
    assert "lost at      x_pos 600-699: 2, 1200-1299: 2, 0-99: 1, 500-599: 1, 800-899: 1" in format_summary(summary)
    assert "stalled at" not in format_summary(summary)
    won = {**summarize([ended(3_161, win=True)]), "noop_max": 0, "all_starts": False, "epsilon": 0.0}
    assert "lost at" not in format_summary(won)
    stalled = [*episodes, Episode(reward=0.0, length=300, win=False, x_pos=3_154, truncated=True)]
    stalled.append(Episode(reward=0.0, length=300, win=False, x_pos=2_178, truncated=True))
    summary = {**summarize(stalled), "noop_max": 0, "all_starts": False, "epsilon": 0.0}
    assert summary["stalled_at"] == [(2_100, 1), (3_100, 1)] and summary["truncated"] == 2
    assert "stalled at   x_pos 2100-2199: 1, 3100-3199: 1 (of those, cut short" in format_summary(summary)


def test_episodes_of_several_levels_are_summed_up_per_level(model_zip: Path, monkeypatch):
    """A model of several levels draws one per episode: each episode names the level it played (from
    the game's info), and the summary and its table give wins and progress per level, in play order."""
    import sb3_mario.env.levels
    from sb3_mario import DoubleDQN, make_mario_env
    from sb3_mario.run.evaluation import Player, format_summary, play_episodes, summarize
    from tests.conftest import ScriptedGame

    def game(world: int, stage: int, buttons: list, render_mode: str | None = None) -> ScriptedGame:
        return ScriptedGame([1.0] * 8, flag=stage == 2, level=(world, stage))  # 1-2 won, 1-1 lost, both at x_pos 48

    monkeypatch.setattr(sb3_mario.env.levels, "make_game", game)
    env = make_mario_env("1-2,1-1")
    episodes = play_episodes(env, Player(DoubleDQN.load(model_zip, device="cpu")), 12, seed=4)
    levels = [e.level for e in episodes]
    assert set(levels) == {"1-1", "1-2"}
    assert [e.win for e in episodes] == [level == "1-2" for level in levels]
    summary = summarize(episodes)
    n = levels.count("1-2")
    assert summary["per_level"] == {
        "1-1": {"episodes": 12 - n, "wins": 0, "mean_x_pos": 48.0},
        "1-2": {"episodes": n, "wins": n, "mean_x_pos": 48.0},
    }
    table = format_summary({**summary, "noop_max": 0, "all_starts": False, "epsilon": 0.0})
    assert f"level 1-1    0 of {12 - n} won, final x_pos 48\nlevel 1-2    {n} of {n} won" in table
    assert summarize([e for e in episodes if e.level == "1-1"])["per_level"] is None  # one level: no table


def test_all_starts_of_several_levels_play_each_level_in_turn(model_zip: Path, tmp_path: Path, monkeypatch):
    """``evaluate --all-starts`` of a model of several levels plays each level for noop_max + 1 episodes, in
    the order given, every start once; the bar's tests (no no-ops) take the levels in turn episode by episode.
    A seeded reset starts again at the first level."""
    import json

    import sb3_mario.env.levels
    from sb3_mario.cli import main
    from sb3_mario.run.config import resolve
    from sb3_mario.run.evaluation import make_eval_env
    from tests.conftest import ScriptedGame

    def game(world: int, stage: int, buttons: list, render_mode: str | None = None) -> ScriptedGame:
        return ScriptedGame([1.0] * 8, flag=stage == 2, level=(world, stage))

    monkeypatch.setattr(sb3_mario.env.levels, "make_game", game)
    out = tmp_path / "eval.json"
    argv = ["evaluate", str(model_zip), "--level", "1-2,1-1", "--noop-max", "2", "--all-starts", "--no-progress-bar"]
    assert main([*argv, "--device", "cpu", "-o", str(out)]) == 0
    summary = json.loads(out.read_text())
    played = [(e["level"], e["noops"]) for e in summary["per_episode"]]
    assert played == [("1-2", 0), ("1-2", 1), ("1-2", 2), ("1-1", 0), ("1-1", 1), ("1-1", 2)]
    assert summary["per_level"]["1-2"] == {"episodes": 3, "wins": 3, "mean_x_pos": 48.0}
    assert summary["lost_starts"] == [0, 1, 2]  # the starts of 1-1

    env = make_eval_env(resolve(settings={"level": "1-2,1-1"}), noop_max=0)  # as Bar.check builds it
    levels = [env.reset(seed=3 if i == 3 else None)[1]["stage"] for i in range(5)]
    assert levels == [2, 1, 2, 2, 1]


def test_random_starts_record_their_noop_count(model_zip: Path, scripted):
    from sb3_mario.run.evaluation import PlaySettings, evaluate

    scripted([1.0] * 40)
    summary = evaluate(model_zip, PlaySettings(episodes=6, noop_max=30, seed=3, device="cpu"))
    assert summary["lost_starts"] is None
    assert all(e["reward"] == 40 - e["noops"] for e in summary["per_episode"])
    assert len({e["noops"] for e in summary["per_episode"]}) > 1


def test_all_starts_needs_noops(model_zip: Path):
    from sb3_mario.errors import ConfigError
    from sb3_mario.run.evaluation import PlaySettings, evaluate

    with pytest.raises(ConfigError, match="all_starts needs noop_max > 0, actual value: 0"):
        evaluate(model_zip, PlaySettings(all_starts=True, device="cpu"))


def test_the_evaluation_env_is_the_runs_env_with_evaluation_starts(scripted):
    """One builder for every evaluation env: the run's env_kwargs, its eval_noop_max starts in turn,
    never the training's sticky actions unless asked for, nor its random actions or replayed starts."""
    from gymnasium.wrappers import StickyAction

    from sb3_mario.env.wrappers import NoProgressTruncation, RandomAction, RandomNoopStart, ReplayStart
    from sb3_mario.run.config import resolve
    from sb3_mario.run.evaluation import make_eval_env

    scripted([1.0] * 40)
    config = resolve(
        hyperparams={
            "env_kwargs": {
                "no_progress_steps": 7,
                "noop_max": 30,
                "repeat_action_probability": 0.25,
                "random_action_probability": 0.02,
                "replay_start_probability": 0.5,
            }
        },
        settings={"eval_noop_max": 2},
    )

    def wrappers(env) -> dict[type, object]:
        found = {}
        while hasattr(env, "env"):
            found[type(env)] = env
            env = env.env
        return found

    env = make_eval_env(config)
    found = wrappers(env)
    assert found[NoProgressTruncation]._max_steps == 7 and StickyAction not in found and ReplayStart not in found
    assert RandomAction not in found
    assert [env.reset(seed=0 if i == 0 else None)[1]["noops"] for i in range(4)] == [0, 1, 2, 0]
    assert env.reset(seed=0)[1]["noops"] == 0  # a seeded reset starts the cycle again
    sticky = wrappers(make_eval_env(config, noop_max=5, all_starts=False, repeat_action_probability=0.25))
    assert sticky[StickyAction].repeat_action_probability == 0.25
    assert sticky[RandomNoopStart]._noop_max == 5 and not sticky[RandomNoopStart]._in_turn


def test_play_reads_the_models_run_config(model_zip: Path, tmp_path: Path, scripted):
    """evaluate plays the env of the model's run: its level and no-progress limit (its .yaml beside it)."""
    from sb3_mario.run.config import resolve
    from sb3_mario.run.evaluation import PlaySettings, play

    scripted([0.0] * 40, xs=[40] * 40)  # Mario never moves
    model = model_zip
    assert [e.length for e in play(model, PlaySettings(episodes=1, device="cpu"))] == [10]  # the game's end
    resolve(hyperparams={"env_kwargs": {"no_progress_steps": 3}}).save(tmp_path)
    (tmp_path / "config.yaml").rename(tmp_path / "model.yaml")
    assert [e.length for e in play(model, PlaySettings(episodes=1, device="cpu"))] == [3]  # the run's limit


class HandSetPlayer:
    """A Player whose Q-values are set by hand: 10 for action 1, 3 for action 2, 0 for the others."""

    @staticmethod
    def make(epsilon: float = 0.0):
        from types import SimpleNamespace

        from sb3_mario.run.evaluation import Player

        class _Player(Player):
            def q_values(self, obs):
                return np.array([0.0, 10.0, 3.0, 0.0, 0.0])

        return _Player(SimpleNamespace(gamma=0.5), epsilon=epsilon, seed=0)


def test_q_estimate_and_discounted_return_on_a_scripted_episode(scripted):
    from sb3_mario import make_mario_env
    from sb3_mario.run.evaluation import discounted_returns, play_episode, summarize

    np.testing.assert_allclose(discounted_returns([4.0, 4.0, 4.0], 0.5), [7.0, 6.0, 4.0])
    scripted([1.0] * 12)  # 3 agent steps of 4 frames, 4.0 each, then the game ends (terminated)
    episode = play_episode(make_mario_env("1-1"), HandSetPlayer.make(), seed=0)
    assert (episode.length, episode.truncated) == (3, False)
    assert episode.q_estimate == 10.0  # greedy: action 1 at every state
    assert episode.discounted_return == pytest.approx((7.0 + 6.0 + 4.0) / 3)  # gamma 0.5
    random = play_episode(make_mario_env("1-1"), HandSetPlayer.make(epsilon=1.0), seed=0)
    sums = {a + b + c for a in (0.0, 3.0, 10.0) for b in (0.0, 3.0, 10.0) for c in (0.0, 3.0, 10.0)}
    assert random.q_estimate * 3 in sums  # the Q-value of the action taken, random or not: 0, 3 or 10

    # a truncated episode's return is unknown after the cut: its states are left out of the means
    scripted([1.0] * 40, xs=[40] * 40)  # Mario never moves: 2 steps without progress end it as truncated
    cut = play_episode(make_mario_env("1-1", no_progress_steps=2), HandSetPlayer.make(), seed=0)
    assert (cut.length, cut.truncated, cut.discounted_return) == (2, True, pytest.approx((4.0 + 2.0 + 4.0) / 2))
    summary = summarize([episode, cut])
    assert summary["q_estimate"] == 10.0 and summary["truncated"] == 1
    assert summary["discounted_return"] == pytest.approx(17.0 / 3)
    assert summarize([cut])["q_estimate"] is None and summarize([cut])["discounted_return"] is None


def test_a_training_run_logs_the_estimate_and_the_return(tmp_path: Path, scripted):
    import csv

    from sb3_mario.run.config import resolve
    from sb3_mario.run.training import train

    scripted([1.0] * 12)  # every evaluation episode: 3 steps of 4.0, terminated
    hyperparams = {
        "n_timesteps": 200, "n_envs": 1, "buffer_size": 300, "learning_starts": 50, "gamma": 0.9,
        "env_kwargs": {},  # the game's own rewards, not scaled
    }  # fmt: skip
    settings = {"vec_env": "dummy", "eval_freq": 100, "eval_episodes": 2, "eval_noop_max": 0, "device": "cpu"}
    train(resolve(hyperparams=hyperparams, settings=settings), tmp_path, progress_bar=False)
    with open(tmp_path / "logs" / "000000000" / "progress.csv", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["eval/discounted_return"]]
    assert [int(row["time/total_timesteps"]) for row in rows] == [100, 200]
    for row in rows:  # G = 4 + 0.9 * 4 + 0.81 * 4, 4 + 0.9 * 4, 4 at the 3 states
        assert float(row["eval/discounted_return"]) == pytest.approx((10.84 + 7.6 + 4.0) / 3)
        assert np.isfinite(float(row["eval/q_estimate"]))


def test_a_constant_player_plays_its_action_or_the_random_ones_player_draws(scripted):
    """The baseline without a model: its action at every step; with epsilon, the random actions come from
    its seeded generator in Player's order (one draw for the coin, one for the action)."""
    from sb3_mario import make_mario_env
    from sb3_mario.errors import ConfigError
    from sb3_mario.run.evaluation import ConstantPlayer, play_episode

    games = scripted([1.0] * 40)  # 10 agent steps of 4 frames
    episode = play_episode(make_mario_env("1-1"), ConstantPlayer(3, 5))
    assert games[-1].actions == [3] * 40 and episode.length == 10
    assert np.isnan(episode.q_estimate) and np.isnan(episode.discounted_return)

    player = ConstantPlayer(3, 5, epsilon=0.5, seed=7, gamma=0.5)
    episode = play_episode(make_mario_env("1-1"), player)
    rng = np.random.default_rng(7)
    expected = [int(rng.integers(5)) if rng.random() < 0.5 else 3 for _ in range(10)]
    assert games[-1].actions == [a for a in expected for _ in range(4)] and expected != [3] * 10
    assert episode.discounted_return == pytest.approx(
        np.mean([sum(4 * 0.5**k for k in range(10 - t)) for t in range(10)])
    )
    with pytest.raises(ConfigError, match=r"action must be in 0..4, actual value: 5"):
        ConstantPlayer(5, 5)


def test_lost_episodes_are_counted_by_how_soon_they_ended_after_a_random_action(scripted):
    """Each episode notes the agent steps from its last random draw to its end; the summary counts the lost episodes
    that ended within RANDOM_ACTION_WINDOW of one, and greedy play has no such count."""
    from sb3_mario import make_mario_env
    from sb3_mario.run.evaluation import (
        RANDOM_ACTION_WINDOW,
        ConstantPlayer,
        Episode,
        format_summary,
        play_episode,
        summarize,
    )

    scripted([1.0] * 40)  # 10 agent steps of 4 frames, then the game ends (lost)
    player = ConstantPlayer(3, 5, epsilon=0.3, seed=11)
    episode = play_episode(make_mario_env("1-1"), player)
    rng, drawn = np.random.default_rng(11), []  # the player's draws: a coin, then an action when it falls
    for step in range(10):
        if rng.random() < 0.3:
            drawn.append((step, int(rng.integers(5))))
    (last, action) = drawn[-1]
    assert 0 < last < 9 and episode.steps_after_random == 9 - last
    assert episode.last_random_action == (action, 3)  # what was drawn, and the player's own action
    unperturbed = play_episode(make_mario_env("1-1"), ConstantPlayer(3, 5))
    assert unperturbed.steps_after_random is None and unperturbed.last_random_action is None
    random = play_episode(make_mario_env("1-1"), HandSetPlayer.make(epsilon=1.0))
    assert random.steps_after_random == 0 and random.last_random_action[1] == 1  # the network's greedy action: 1
    assert play_episode(make_mario_env("1-1"), HandSetPlayer.make()).steps_after_random is None

    def ended(win: bool, after: int | None) -> Episode:
        return Episode(reward=0.0, length=20, win=win, x_pos=3_161 if win else 1_400, steps_after_random=after)

    w = RANDOM_ACTION_WINDOW
    episodes = [ended(False, 0), ended(False, w - 1), ended(False, w), ended(False, None), ended(True, 2)]
    summary = {**summarize(episodes), "noop_max": 0, "all_starts": False, "epsilon": 0.02}
    assert summary["lost_after_random"] == 2  # the last step's action, and one w - 1 steps before the end
    assert f"after random 2 of the 4 lost ended within {w} steps of an action drawn at random" in format_summary(
        summary
    )
    greedy = {**summarize([ended(False, None)]), "noop_max": 0, "all_starts": False, "epsilon": 0.0}
    assert greedy["lost_after_random"] is None and "after random" not in format_summary(greedy)


def load_script(name: str):
    """The module of ``scripts/<name>.py`` (the scripts are not a package; they import each other from their
    folder, which is on ``sys.path`` when one runs)."""
    scripts = Path(__file__).parents[1] / "scripts"
    if str(scripts) not in sys.path:
        sys.path.append(str(scripts))
    spec = importlib.util.spec_from_file_location(name, scripts / f"{name}.py")
    script = importlib.util.module_from_spec(spec)
    sys.modules[name] = script  # dataclasses look their module up there
    spec.loader.exec_module(script)
    return script


def test_the_constant_action_baselines_table(scripted, capsys):
    """scripts/constant_actions.py on a game that ends on the flag at x_pos 48 whatever is pressed: every
    episode of each test is won; an action outside the action set is one line and exit 2."""
    script = load_script("constant_actions")

    scripted([1.0] * 8, flag=True)  # x_pos 48 at the end
    assert script.main(["--actions", "0,2", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2:] == [
        "| 0: NOOP | 31 of 31 (48) | 100 of 100 (48) | 100 of 100 (48) |",
        "| 2: right + A | 31 of 31 (48) | 100 of 100 (48) | 100 of 100 (48) |",
    ]
    assert script.main(["--actions", "5"]) == 2
    assert (
        capsys.readouterr().err
        == "constant_actions.py: error: action must be in 0..4 for right_only, actual value: 5\n"
    )


def test_cut_jumps_finds_the_fatal_replacements_of_the_greedy_path(monkeypatch, capsys):
    """scripts/cut_jumps.py on a game lost when agent step 2 presses A (an enemy overhead), won on the flag after 6
    steps otherwise: of the greedy path of right (action 1), only step 2's A actions are fatal."""

    import sb3_mario.env.factory
    from sb3_mario import make_mario_env
    from tests.conftest import ScriptedGame

    script = load_script("cut_jumps")

    class EnemyOverhead(ScriptedGame):
        def step(self, action: int):
            frame, reward, done, truncated, info = super().step(action)
            if 9 <= self.t <= 12 and action in (2, 4):  # the frames of agent step 2
                return frame, reward, True, truncated, {**info, "flag_get": False}
            return frame, reward, done, truncated, info

    def game(*args, **kwargs) -> EnemyOverhead:
        return EnemyOverhead([1.0] * 24, flag=True)

    monkeypatch.setattr(sb3_mario.env.factory, "make_game", game)
    env, player = make_mario_env("1-1"), HandSetPlayer.make()
    greedy, xs, won = script.greedy_path(env, player)
    assert (greedy, xs, won) == ([1] * 6, [44, 48, 52, 56, 60, 64], True)
    assert script.replay(env, [1, 1, 2], player, horizon=3) == (True, 49)  # its first frame ends it
    assert script.replay(env, [1, 1, 3], player, horizon=3) == (False, 64)  # the flag: won
    rows = script.fatal_replacements(env, player, greedy, 5, horizon=3)
    assert rows == [(2, [(2, 49), (4, 49)])]
    assert script.predicted_loss(rows, 0.02, 5) == pytest.approx(0.02 * 2 / 5)
    assert script.main(["nope.zip"]) == 2
    assert capsys.readouterr().err == "cut_jumps.py: error: model file not found: nope.zip\n"


class JumpingEmulator:
    """A flat game for scripts/pit_jumps.py: 1 pixel a frame walking, 2 running; a jump rises while A is held
    (at most 8 frames) and falls as long as it rose; standing on the pit ``[20, 28)`` is dying."""

    PIT = (20, 28)

    def __init__(self, wall: int | None = None):
        self.wall = wall
        self.saved = (0, 0, 0, False, False)
        self.load()

    def save(self) -> None:
        self.saved = (self.x_pos, self.rise, self.fall, self.rising, self.dying)

    def load(self) -> None:
        self.x_pos, self.rise, self.fall, self.rising, self.dying = self.saved
        self.airborne = self.prev_a = False

    @property
    def on_ground(self) -> bool:
        return not self.airborne

    def frame(self, buttons: int) -> None:
        a = bool(buttons & 0b1)
        if not self.airborne and a and not self.prev_a:
            self.airborne, self.rising, self.rise, self.fall = True, True, 0, 0
        if self.airborne:
            if self.rising and a and self.rise < 8:
                self.rise += 1
            else:
                self.rising, self.fall = False, self.fall + 1
                self.airborne = self.fall < self.rise
        step = 2 if buttons & 0b10 else 1
        self.x_pos = min(self.x_pos + step, self.wall) if self.wall is not None else self.x_pos + step
        self.dying = self.dying or (not self.airborne and self.PIT[0] <= self.x_pos < self.PIT[1])
        self.prev_a = a


def test_pit_jumps_sweeps_take_offs_and_held_a(model_zip: Path, capsys):
    """scripts/pit_jumps.py on :class:`JumpingEmulator`: a jump with A held h agent steps flies 2 * min(4h, 8)
    frames, so it clears the pit (lands at x >= 28) from take-off x0 when x0 + frames * speed >= 28."""
    script = load_script("pit_jumps")
    walk, run = script.SPEEDS["walk"], script.SPEEDS["run"]
    pit = JumpingEmulator.PIT
    emulator = JumpingEmulator()
    # walking, take-offs 4 pixels apart (0, 4, .., 16): A for 1 step flies 8 pixels, which no take-off before 20
    # turns into a landing at >= 28; A for 2 steps flies 16, from 12 and 16
    assert script.sweep(emulator, walk, 1, pit) == [script.Hop(x, False) for x in (0, 4, 8, 12, 16)]
    assert [h.cleared for h in script.sweep(emulator, walk, 2, pit)] == [False, False, False, True, True]
    # running, take-offs 8 apart (0, 8, 16): A for 1 step flies 16 pixels, so the last one clears; 2 steps fly
    # 32, from every one
    assert script.sweep(emulator, run, 1, pit) == [script.Hop(0, False), script.Hop(8, False), script.Hop(16, True)]
    assert script.clearing(script.sweep(emulator, run, 2, pit)) == "0-16 (3 of 3)"
    assert script.clearing(script.sweep(emulator, walk, 1, pit)) == "none (of 5)"
    assert script.hop(emulator, walk, 5, 1, pit) is None  # the run-up reaches the pit's edge
    # a wall at 10 holds Mario back: the run-ups stop at their bound
    blocked = script.sweep(JumpingEmulator(wall=10), walk, 1, pit)
    assert len(blocked) == script.MAX_RUN_UP + 1 and not any(h.cleared for h in blocked)
    assert script.main(["nope.zip"]) == 2
    assert capsys.readouterr().err == "pit_jumps.py: error: model file not found: nope.zip\n"
    assert script.main(["nope.zip", "--holds", "1,x"]) == 2
    assert (
        capsys.readouterr().err
        == "pit_jumps.py: error: holds must be comma-separated integers >= 1, actual value: 1,x\n"
    )
    assert script.main([str(model_zip), "--average"]) == 2  # DoubleDQN's default: no average of weights
    assert capsys.readouterr().err.startswith("pit_jumps.py: error: this model keeps no average of its weights")


class SteppingEnv:
    """The env side of :class:`JumpingEmulator`: an agent step is 4 frames of the action's buttons."""

    def __init__(self, emulator: JumpingEmulator, buttons: list[int]):
        self.emulator, self.buttons = emulator, buttons

    def reset(self, seed: int) -> None:
        self.emulator.saved = (0, 0, 0, False, False)
        self.emulator.load()

    def step(self, action: int) -> None:
        for _ in range(4):
            self.emulator.frame(self.buttons[action])


def test_pit_jumps_finds_the_networks_take_off():
    """scripts/pit_jumps.py's take-off of a greedy path on :class:`JumpingEmulator`: the last step with A that
    leaves the ground before the pit's near edge, its x_pos, its speed and the agent steps A stays held."""
    script = load_script("pit_jumps")
    walk, run = script.SPEEDS["walk"], script.SPEEDS["run"]
    assert (script.button_bits(["right"]), script.button_bits(["right", "A", "B"])) == (walk, run | script.A)
    assert script.button_bits(["NOOP"]) == 0
    buttons = [0, walk, walk | script.A, run, run | script.A]  # RIGHT_ONLY's order
    emulator = JumpingEmulator()
    # walk to x 4, jump running with A held 2 steps (8 frames up, 8 down: lands at 4 + 2 * 16 = 36), run on
    path = script.walk_path(SteppingEnv(emulator, buttons), emulator, [1, 4, 4, 3, 3, 3], buttons)
    assert [s.x_pos for s in path] == [0, 4, 12, 20, 28, 36]
    assert [(s.grounded_before, s.grounded_after) for s in path] == [
        (True, True),
        (True, False),
        (False, False),
        (False, False),
        (False, True),
        (True, True),
    ]
    assert script.take_off(path, JumpingEmulator.PIT) == script.TakeOff(4, running=True, held=2)
    assert script.take_off(path, (2, 10)) is None  # no jump before x 2
    # a hop at x 0 that lands before the pit, then the jump that clears it: the take-off is the later one
    hops = [
        script.PathStep(0, walk | script.A, True, False),
        script.PathStep(4, walk, False, True),
        script.PathStep(8, walk | script.A, True, False),
        script.PathStep(12, walk | script.A, False, False),
        script.PathStep(16, walk | script.A, False, False),
    ]
    assert script.take_off(hops, JumpingEmulator.PIT) == script.TakeOff(8, running=False, held=3)


def test_pit_jumps_emulator_saves_and_restores_the_game():
    """scripts/pit_jumps.py's :class:`NesEmulator` on the real game: frames of right move Mario, loading the saved
    state puts him back, and the same frames then give the same x_pos."""
    from sb3_mario.env import make_mario_env

    script = load_script("pit_jumps")
    env = make_mario_env("1-1")
    env.reset(seed=0)
    emulator = script.NesEmulator(env.unwrapped.nes)
    for _ in range(60):  # the level's first frames, before Mario can move
        emulator.frame(0)
    emulator.save()
    start = emulator.x_pos
    for _ in range(40):
        emulator.frame(script.SPEEDS["run"])
    moved = emulator.x_pos
    assert moved > start and not emulator.dying and emulator.on_ground
    emulator.load()
    assert emulator.x_pos == start
    for _ in range(40):
        emulator.frame(script.SPEEDS["run"])
    assert emulator.x_pos == moved
    env.close()
