"""The preprocessing pipeline of make_mario_env, checked on a scripted game."""

from __future__ import annotations

import cv2
import gymnasium as gym
import numpy as np
import pytest

from sb3_mario import make_mario_env
from sb3_mario.env.backend import action_sets
from sb3_mario.env.levels import RandomStageGame
from sb3_mario.env.wrappers import (
    HUD_HEIGHT,
    FreshJump,
    FullJump,
    MarioFrameObservation,
    NoProgressTruncation,
    RandomNoopStart,
    ReplayStart,
)
from tests.conftest import ScriptedGame


def processed(value: int) -> np.ndarray:
    """The 84x84 frame of a constant frame: cropping, grayscale and area resize keep the constant."""
    return np.full((84, 84), value, dtype=np.uint8)


def wrapper_chain(env: gym.Env) -> tuple[list[str], gym.Env]:
    """The class names of ``env``'s wrappers, outermost first, and the env under them."""
    chain = []
    while isinstance(env, gym.Wrapper):
        chain.append(type(env).__name__)
        env = env.env
    return chain, env


def test_frame_skip_sums_rewards_and_max_pools_last_two(scripted):
    scripted([1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0, 5.0])
    env = make_mario_env("1-1")
    env.reset(seed=0)
    obs, reward, terminated, truncated, _ = env.step(1)
    assert reward == 10.0  # 1 + 2 + 3 + 4
    # frames 3 and 4 of the step hold 4 and 5: the max-pool keeps 5
    np.testing.assert_array_equal(obs[-1], processed(5))
    obs, reward, *_ = env.step(2)
    assert reward == 100.0
    np.testing.assert_array_equal(obs[-1], processed(9))
    assert not terminated and not truncated


def test_max_pool_takes_pixelwise_max_of_last_two_frames(scripted):
    frames = [np.zeros((240, 256, 3), np.uint8) for _ in range(5)]
    frames[3][100:140, :128] = 200  # left half bright in frame 3
    frames[4][100:140, 128:] = 90  # right half in frame 4
    frames[2][:, :] = 255  # frame 2 is not among the last two: ignored
    games = scripted([0.0] * 4, frames=frames)
    env = make_mario_env("1-1", frame_stack=1)
    env.reset()
    obs, *_ = env.step(0)
    expected = np.maximum(frames[3], frames[4])
    gray = cv2.cvtColor(expected[HUD_HEIGHT:], cv2.COLOR_RGB2GRAY)
    np.testing.assert_array_equal(obs[0], cv2.resize(gray, (84, 84), interpolation=cv2.INTER_AREA))
    assert games[0].actions == [0, 0, 0, 0]


def test_grayscale_resize_matches_direct_cv2():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (240, 256, 3), dtype=np.uint8)
    env = MarioFrameObservation(ScriptedGame([0.0], frames=[frame, frame]))
    obs, _ = env.reset()
    gray = cv2.cvtColor(frame[32:], cv2.COLOR_RGB2GRAY)
    np.testing.assert_array_equal(obs, cv2.resize(gray, (84, 84), interpolation=cv2.INTER_AREA))
    assert obs.dtype == np.uint8 and obs in env.observation_space
    # the HUD rows do not reach the observation
    frame2 = frame.copy()
    frame2[:32] = 0
    np.testing.assert_array_equal(env.observation(frame2), obs)


def test_stack_is_channel_first_oldest_first_with_zero_padding(scripted):
    scripted([0.0] * 12)
    env = make_mario_env("1-1")
    assert env.observation_space.shape == (4, 84, 84) and env.observation_space.dtype == np.uint8
    obs, _ = env.reset()
    assert obs in env.observation_space
    for i in range(3):
        np.testing.assert_array_equal(obs[i], processed(0))
    np.testing.assert_array_equal(obs[3], processed(1))
    obs, *_ = env.step(0)
    assert [int(obs[i, 0, 0]) for i in range(4)] == [0, 0, 1, 5]
    obs, *_ = env.step(0)
    assert [int(obs[i, 0, 0]) for i in range(4)] == [0, 1, 5, 9]
    obs, *_ = env.step(0)
    assert [int(obs[i, 0, 0]) for i in range(4)] == [1, 5, 9, 13]
    assert obs in env.observation_space


def test_is_success_exactly_on_flag_episode(scripted):
    scripted([1.0] * 8, flag=True)
    env = make_mario_env("1-1")
    env.reset()
    _, _, terminated, _, info = env.step(1)
    assert not terminated and "is_success" not in info
    _, _, terminated, _, info = env.step(1)
    assert terminated and info["is_success"] is True
    assert (info["x_pos"], info["world"], info["stage"]) == (48, 1, 1)


def test_is_success_false_when_episode_ends_without_flag(scripted):
    scripted([1.0] * 8, flag=False)
    env = make_mario_env("1-1")
    env.reset()
    env.step(1)
    _, _, terminated, _, info = env.step(1)
    assert terminated and info["is_success"] is False


def test_no_progress_truncation_counts_steps_without_new_best_x():
    xs = [41, 42, 42, 42, 43, 43, 43, 43, 50]
    env = NoProgressTruncation(ScriptedGame([0.0] * 9, xs=xs), max_steps=3)
    env.reset()
    ends = [env.step(0)[3] for _ in range(7)]
    assert ends == [False, False, False, False, False, False, False]
    assert env.step(0)[3] is True  # 43 held for 3 steps after the new best
    with pytest.raises(ValueError, match="max_steps must be >= 1, actual value: 0"):
        NoProgressTruncation(ScriptedGame([0.0]), max_steps=0)


def test_no_progress_truncation_ends_episode_as_truncated_with_info(scripted):
    scripted([0.0] * 40, xs=[41] * 40)
    env = make_mario_env("1-1", frame_skip=1, no_progress_steps=5)
    env.reset()
    results = [env.step(0) for _ in range(6)]  # step 1 sets the best (41 > 40), then 5 without
    assert [r[3] for r in results] == [False, False, False, False, False, True]
    assert results[-1][4]["is_success"] is False


def test_random_noop_start_plays_noops_drawn_from_seed():
    game = ScriptedGame([0.0] * 100)
    env = RandomNoopStart(game, noop_max=30)
    counts = []
    for seed in (1, 2, 3):
        game.actions.clear()
        env.reset(seed=seed)
        counts.append(len(game.actions))
        assert set(game.actions) <= {0}
    assert all(0 <= c <= 30 for c in counts) and len(set(counts)) > 1
    game.actions.clear()
    env.reset(seed=1)
    assert len(game.actions) == counts[0]


def test_random_noop_start_in_turn_cycles_through_the_counts_and_reports_them():
    game = ScriptedGame([0.0] * 100)
    env = RandomNoopStart(game, noop_max=3, in_turn=True)
    played, reported = [], []
    for i in range(11):
        game.actions.clear()
        _, info = env.reset(seed=7 if i in (0, 6) else None)  # a seeded reset starts the cycle again
        assert set(game.actions) <= {0}
        played.append(len(game.actions))
        reported.append(info["noops"])
    assert played == reported == [0, 1, 2, 3, 0, 1, 0, 1, 2, 3, 0]
    game.actions.clear()
    _, info = RandomNoopStart(game, noop_max=30).reset(seed=2)
    assert info["noops"] == len(game.actions)


@pytest.mark.parametrize("seed", [0, 5])
def test_sticky_actions_repeat_the_last_frames_action_with_the_given_probability(scripted, seed: int):
    """At every emulator frame, the previous frame's action is played instead with probability 0.25
    (Machado et al. 2018); the draws come from the env's seeded generator, and a reset forgets the last action."""
    from gymnasium.utils.seeding import np_random

    games = scripted([0.0] * 100)
    env = make_mario_env("1-1", repeat_action_probability=0.25)
    (game,) = games
    env.reset(seed=seed)
    agent = [1, 2, 3, 4, 1, 2, 3, 4]
    for action in agent:
        env.step(action)
    rng, _ = np_random(seed)
    expected, last = [], None
    for action in np.repeat(agent, 4):  # 4 frames per agent step
        last = last if last is not None and rng.uniform() < 0.25 else int(action)
        expected.append(last)
    assert game.actions == expected
    assert expected != list(np.repeat(agent, 4))  # some frames did stick
    game.actions.clear()
    env.reset()
    env.step(3)
    assert game.actions[0] == 3  # nothing to repeat after a reset


@pytest.mark.parametrize("seed", [0, 3])
def test_random_actions_replace_a_whole_agent_steps_action_with_the_given_probability(scripted, seed: int):
    """At each agent step, a uniform random action replaces the agent's with probability 0.3, for
    all 4 frames of the step (as ``evaluate --epsilon`` plays them); the draws come from the env's
    seeded generator."""
    from gymnasium.utils.seeding import np_random

    games = scripted([0.0] * 200)
    env = make_mario_env("1-1", random_action_probability=0.3)
    (game,) = games
    env.reset(seed=seed)
    agent = [1, 2, 3, 4] * 5
    for action in agent:
        env.step(action)
    rng, _ = np_random(seed)
    played = [int(rng.integers(5)) if rng.random() < 0.3 else action for action in agent]
    assert game.actions == list(np.repeat(played, 4))
    assert played != agent  # some steps were replaced
    env.reset(seed=seed)
    game.actions.clear()
    for action in agent:
        env.step(action)
    assert game.actions == list(np.repeat(played, 4))  # the seed fixes the draws


def test_a_level_setting_names_one_level_a_list_a_world_or_all():
    from sb3_mario.env.levels import ALL_LEVELS, level_names

    assert level_names("1-2") == ("1-2",)
    assert level_names("1-1,1-2, 2-4") == ("1-1", "1-2", "2-4")
    assert level_names(["3-1", "3-2"]) == ("3-1", "3-2")
    assert level_names("world-1") == ("1-1", "1-2", "1-3", "1-4")
    assert level_names("world-8") == ("8-1", "8-2", "8-3", "8-4")
    assert level_names("random") == ALL_LEVELS and len(ALL_LEVELS) == 32
    for bad in ("world-9", "world-", "1-1,", "", "1-1;1-2"):
        with pytest.raises(ValueError, match=r"valid levels are 1-1 .. 8-4, a comma-separated list of them"):
            level_names(bad)


def test_bad_arguments_say_what_is_valid():
    with pytest.raises(ValueError, match=r"unknown level '1-5': valid levels are 1-1 .. 8-4, a comma-separated"):
        make_mario_env("1-5")
    with pytest.raises(ValueError, match=r"unknown level '9-1': valid levels are 1-1 .. 8-4, .*world-1 .. world-8"):
        make_mario_env("1-1,9-1")
    with pytest.raises(
        ValueError, match="unknown action set 'left_only': valid action sets are right_only, simple, complex"
    ):
        make_mario_env("1-1", action_set="left_only")
    with pytest.raises(ValueError, match="frame_skip must be >= 1, actual value: 0"):
        make_mario_env("1-1", frame_skip=0)
    with pytest.raises(ValueError, match="frame_stack must be >= 1, actual value: 0"):
        make_mario_env("1-1", frame_stack=0)
    with pytest.raises(ValueError, match="noop_max must be >= 0, actual value: -1"):
        make_mario_env("1-1,1-2", noop_max=-1, noop_in_turn=True)
    with pytest.raises(ValueError, match="turn_length must be >= 1 or None, actual value: 0"):
        RandomStageGame(["1-1", "1-2"], [["NOOP"]], turn_length=0)
    with pytest.raises(ValueError, match=r"repeat_action_probability must be in \[0, 1\), actual value: 1.0"):
        make_mario_env("1-1", repeat_action_probability=1.0)
    with pytest.raises(ValueError, match=r"random_action_probability must be in \[0, 1\), actual value: -0.1"):
        make_mario_env("1-1", random_action_probability=-0.1)


def played(env: ReplayStart, actions: list[int]) -> None:
    for action in actions:
        env.step(action)


def test_replay_start_resumes_the_farthest_episode_at_the_frame_the_seed_draws():
    """A reset replays the first ``cut`` frames of the kept episode: the game plays exactly those actions,
    the observation and info are those of frame ``cut``, and the draws are the env's seeded generator's
    (replay with probability p, which episode of the pool, the cut in 0..best frame - margin)."""
    from gymnasium.utils.seeding import np_random

    game = ScriptedGame([0.0] * 100)  # x_pos 41, 42, ...: the best frame is the last one played
    env = ReplayStart(game, 0.5, pool_size=1, margin=5)
    _, info = env.reset(seed=0)
    assert info["replayed_frames"] == 0  # nothing kept yet
    recorded = [t % 5 for t in range(30)]
    played(env, recorded)
    replays = 0
    for seed in range(1, 30):
        game.actions.clear()
        obs, info = env.reset(seed=seed)
        rng, _ = np_random(seed)
        cut = int(rng.integers(0, 30 - 5 + 1)) if (rng.random() < 0.5 and rng.integers(1) == 0) else 0
        assert info["replayed_frames"] == cut and game.actions == recorded[:cut]
        np.testing.assert_array_equal(obs, game.frame(cut))
        assert info["x_pos"] == (40 + cut)
        _, _, _, _, info = env.step(0)
        assert info["replayed_frames"] == cut  # on every step of the episode
        replays += cut > 0
    assert 5 < replays < 25  # both branches taken
    assert list(env.pools) == ["1-1"] and len(env.pools["1-1"]) == 1
    assert env.pools["1-1"][0][0] == 70  # the 30-frame episode stays the farthest


def test_replay_start_keeps_the_farthest_episodes_up_to_their_best_frame():
    game = ScriptedGame([0.0] * 100, xs=[50, 60, 55, 10, 90, 95, 94, 20, 30, 99] * 10)
    env = ReplayStart(game, 0.0, pool_size=2)
    env.reset(seed=0)
    for length in (3, 6, 2, 9, 10):  # best x_pos 60 (frame 2), 95 (6), 60 (2), 95 (6), 99 (10)
        played(env, [1] * (length - 1) + [2])
        env.reset()
    assert sorted((x, list(frames)) for x, frames in env.pools["1-1"]) == [
        (95, [1, 1, 1, 1, 1, 2]),  # the second 95 took the 60's place, then the 99 took the first 95's
        (99, [1] * 9 + [2]),
    ]
    assert game.t == 0  # probability 0: every episode from the game's start


def test_replay_start_takes_pools_kept_elsewhere_up_to_their_size():
    env = ReplayStart(ScriptedGame([0.0] * 10), 0.5, pool_size=2)
    env.set_pools({"1-1": [(70, [1, 2, 3]), (90, np.array([4, 4])), (50, [0])], "1-2": [(30, [2])]})
    assert [(x, frames.tolist(), frames.dtype) for x, frames in env.pools["1-1"]] == [
        (70, [1, 2, 3], np.uint8),  # the farthest two, as uint8 frame actions
        (90, [4, 4], np.uint8),
    ]
    assert [(x, frames.tolist()) for x, frames in env.pools["1-2"]] == [(30, [2])]
    env.set_pools({})
    assert env.pools == {}


def test_replay_start_keeps_each_levels_episodes_apart_and_replays_the_drawn_levels(monkeypatch):
    """Over a game that draws its stage at each reset, an episode joins its own level's pool, and a
    replay goes on along an episode of the level the reset drew, never another level's frames."""
    import sb3_mario.env.levels
    from sb3_mario.env.levels import RandomStageGame

    games = {}

    def fake(world: int, stage: int, buttons: list, render_mode: str | None = None) -> ScriptedGame:
        # stage 1's x_pos grows by 1 per frame from 41, stage 2's by 2 from 102
        xs = [40 + t for t in range(1, 101)] if stage == 1 else [100 + 2 * t for t in range(1, 101)]
        games[f"{world}-{stage}"] = ScriptedGame([0.0] * 100, xs=xs, level=(world, stage))
        return games[f"{world}-{stage}"]

    monkeypatch.setattr(sb3_mario.env.levels, "make_game", fake)
    env = ReplayStart(RandomStageGame(["1-1", "1-2"], action_sets()["right_only"]), 1.0, pool_size=2, margin=1)
    action = {"1-1": 1, "1-2": 2}  # each level's episodes press their own button
    _, info = env.reset(seed=0)
    replays = 0
    for _ in range(12):
        played(env, [action[f"{info['world']}-{info['stage']}"]] * 10)
        for game in games.values():
            game.actions.clear()
        _, info = env.reset()
        level, cut = f"{info['world']}-{info['stage']}", info["replayed_frames"]
        assert games[level].actions == [action[level]] * cut  # a replay of that level's episode
        assert all(not game.actions for name, game in games.items() if name != level)
        replays += cut > 0
    assert replays > 3
    assert sorted(env.pools) == ["1-1", "1-2"]
    for level, pool in env.pools.items():
        for x, frames in pool:  # the frames of that level's episodes, up to their farthest x_pos
            assert frames.tolist() == [action[level]] * len(frames)
            assert x == (40 + len(frames) if level == "1-1" else 100 + 2 * len(frames))
        assert max(len(frames) for _, frames in pool) > 10  # an episode that went on from a replay


def test_replay_start_falls_back_to_the_games_start_when_a_replay_ends_the_episode():
    game = ScriptedGame([0.0] * 100)
    env = ReplayStart(game, 1.0, pool_size=1, margin=1)
    env.reset(seed=0)
    played(env, [1] * 40)
    game.rewards = [0.0] * 3  # the game changed: the recorded frames end an episode after 3
    with pytest.warns(RuntimeWarning, match="ended the episode"):
        for seed in range(10):  # some cut beyond frame 3
            _, info = env.reset(seed=seed)
            if info["replayed_frames"] == 0:
                break
    assert info["replayed_frames"] == 0 and game.t == 0


def test_replay_start_checks_its_arguments():
    for kwargs, message in (
        ({"probability": 1.5}, r"probability must be in \[0, 1\], actual value: 1.5"),
        ({"probability": 0.5, "pool_size": 0}, "pool_size must be >= 1, actual value: 0"),
        ({"probability": 0.5, "margin": 0}, "margin must be >= 1, actual value: 0"),
    ):
        with pytest.raises(ValueError, match=message):
            ReplayStart(ScriptedGame([0.0]), **kwargs)
    with pytest.raises(ValueError, match=r"replay_start_probability must be in \[0, 1\], actual value: -0.1"):
        make_mario_env("1-1", replay_start_probability=-0.1)


def test_replay_start_wraps_the_game_below_sticky_actions_and_reports_every_episode_end(scripted):
    games = scripted([0.0] * 40)
    env = make_mario_env("1-1", replay_start_probability=0.5, repeat_action_probability=0.25, noop_max=3)
    chain, inner = wrapper_chain(env)
    assert chain[-2:] == ["StickyAction", "ReplayStart"] and inner is games[0]
    env.reset(seed=0)
    terminated = truncated = False
    while not (terminated or truncated):
        *_, terminated, truncated, info = env.step(1)
    assert terminated and info["replayed_frames"] == 0 and info["is_success"] is False
    plain = make_mario_env("1-1")
    plain.reset(seed=0)
    for _ in range(10):
        *_, info = plain.step(1)
    assert info["replayed_frames"] == 0  # every episode end carries it, for the Monitor's keys


def test_reward_scale_multiplies_each_steps_summed_reward(scripted):
    scripted([1.0, 2.0, 3.0, 4.0, -15.0, 5.0, 5.0, 5.0])
    env = make_mario_env("1-1", reward_scale=0.1)
    env.reset(seed=0)
    rewards = [env.step(1)[1] for _ in range(2)]
    assert rewards == pytest.approx([1.0, 0.0])  # (1 + 2 + 3 + 4) / 10, (-15 + 5 + 5 + 5) / 10
    with pytest.raises(ValueError, match="reward_scale must be > 0, actual value: 0"):
        make_mario_env("1-1", reward_scale=0)


def test_flag_bonus_is_added_to_the_step_that_reaches_the_flag_before_the_scale(scripted):
    scripted([1.0] * 8, flag=True)
    env = make_mario_env("1-1", flag_bonus=50, reward_scale=0.1)
    env.reset(seed=0)
    rewards = [env.step(1)[1] for _ in range(2)]
    assert rewards == pytest.approx([0.4, 5.4])  # 4 frames of 1; then (4 + 50) / 10 on the flag
    scripted([1.0] * 8, flag=False)  # an episode that ends without the flag: no bonus
    env = make_mario_env("1-1", flag_bonus=50, reward_scale=0.1)
    env.reset(seed=0)
    assert [env.step(1)[1] for _ in range(2)] == pytest.approx([0.4, 0.4])
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="flag_bonus must be a finite number >= 0, actual value: "):
            make_mario_env("1-1", flag_bonus=bad)


def test_fresh_jump_releases_a_on_the_ground_after_two_held_frames():
    right, right_a, right_b, right_a_b = 1, 2, 3, 4
    # on the ground after frames 1-3, in the air after 4-6, landed after 7-10
    ground = [True, True, True, False, False, False, True, True, True, True]
    game = ScriptedGame([0.0] * 10, ground=ground)
    env = FreshJump(game, action_sets()["right_only"])
    env.reset(seed=0)
    for _ in range(10):
        env.step(right_a)
    # frames 1-2 press A; on the ground with A held twice, frame 3 releases it and frame 4 presses it afresh; in the
    # air A stays held (a higher jump); after the landing (frame 7) it is released again on frame 8
    assert game.actions == [right_a, right_a, right, right_a, right_a, right_a, right_a, right, right_a, right_a]
    game = ScriptedGame([0.0] * 6)
    env = FreshJump(game, action_sets()["right_only"])
    env.reset(seed=0)
    for action in [right_a_b, right_a_b, right_a_b, right_b, right_a_b, 0]:
        env.step(action)
    assert game.actions == [right_a_b, right_a_b, right_b, right_b, right_a_b, 0]  # actions without A pass as they are


def test_fresh_jump_maps_each_jump_to_its_buttons_without_a_in_every_action_set():
    for name, buttons in action_sets().items():
        env = FreshJump(ScriptedGame([0.0]), buttons)
        for action, release in env._release.items():
            assert set(buttons[release]) - {"NOOP"} == set(buttons[action]) - {"A"}, name
        assert sorted(env._release) == [i for i, b in enumerate(buttons) if "A" in b]
    with pytest.raises(ValueError, match=r"action \['left', 'A'\] has no counterpart without A"):
        FreshJump(ScriptedGame([0.0]), [["NOOP"], ["right"], ["right", "A"], ["left", "A"]])


def test_full_jump_presses_a_with_every_action_while_mario_is_in_a_jump():
    noop, right, right_a, right_b, right_a_b, a = 0, 1, 2, 3, 4, 5  # a: the game's extra action for NOOP
    buttons = action_sets()["right_only"]
    # in a jump after frames 2-5 (the game shows a take-off a frame late); on the ground otherwise
    jumping = [False, True, True, True, True, False, False, False]
    game = ScriptedGame([0.0] * 8, jumping=jumping, n_actions=6)
    env = FullJump(game, buttons)
    assert env.action_space == gym.spaces.Discrete(5)
    env.reset(seed=0)
    for action in [right_a, noop, right, right_b, right_a_b, noop, right, right_b]:
        env.step(action)
    # each frame after an info in a jump (frames 3-6) gets A: right -> right + A, right + B -> right + A + B,
    # NOOP -> A; the other frames get the action as it is
    assert game.actions == [right_a, noop, right_a, right_a_b, right_a_b, a, right, right_b]
    game = ScriptedGame([0.0] * 2, jumping=[False, False], n_actions=6)
    env = FullJump(game, buttons)
    assert env.reset(seed=0)[1]["jumping"] is False
    with pytest.raises(ValueError, match="the game has 5 actions, expected 6: build it with FullJump.game_buttons"):
        FullJump(ScriptedGame([0.0]), buttons)


def test_full_jump_gives_the_game_each_action_with_a_that_the_set_lacks():
    assert FullJump.game_buttons(action_sets()["right_only"])[5:] == [["A"]]
    assert FullJump.game_buttons(action_sets()["simple"])[7:] == [["left", "A"]]
    assert FullJump.game_buttons(action_sets()["complex"])[12:] == [["down", "A"], ["up", "A"]]
    for name, buttons in action_sets().items():
        game_buttons = FullJump.game_buttons(buttons)
        assert game_buttons[: len(buttons)] == buttons, name
        env = FullJump(ScriptedGame([0.0], n_actions=len(game_buttons)), buttons)
        for action, with_a in enumerate(env._with_a):
            assert set(game_buttons[with_a]) - {"NOOP"} == set(buttons[action]) - {"NOOP"} | {"A"}, name


def test_full_jump_wraps_fresh_jump_and_the_game_gets_the_extra_action(scripted):
    jumping = [False, True, True, True, False, False, False, False]
    games = scripted([0.0] * 8, jumping=jumping, ground=[not j for j in jumping])
    env = make_mario_env("1-1", fresh_jump=True, full_jump=True, frame_skip=1)
    chain, inner = wrapper_chain(env)
    assert chain[-2:] == ["FullJump", "FreshJump"] and inner is games[0]
    assert env.action_space == gym.spaces.Discrete(5) and games[0].action_space == gym.spaces.Discrete(6)
    env.reset(seed=0)
    for action in [2, 0, 0, 0, 2, 2, 2, 2]:
        env.step(action)
    # NOOPs in the jump press A (action 5); after the landing FreshJump releases the A held since frame 3 for one
    # frame (right), and right + A presses it afresh
    assert games[0].actions == [2, 0, 5, 5, 2, 1, 2, 2]


def test_fresh_jump_and_flag_bonus_wrap_the_game_below_replayed_starts(scripted):
    games = scripted([0.0] * 40)
    env = make_mario_env("1-1", fresh_jump=True, flag_bonus=50, replay_start_probability=0.5)
    chain, inner = wrapper_chain(env)
    assert chain[-3:] == ["ReplayStart", "FlagBonus", "FreshJump"] and inner is games[0]
