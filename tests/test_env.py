"""The real game through the factory, the registered ids and the backend."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import sb3_mario
from sb3_mario import ACTION_SETS, ALL_LEVELS, RANDOM_STAGES_ID, env_id, make_mario_env
from sb3_mario.env.backend import INFO_KEYS, backend_name, make_game

RIGHT = 1  # RIGHT_ONLY[1] == ["right"]


def test_every_level_has_an_id_and_the_scheme_is_documented():
    assert len(ALL_LEVELS) == 32 and ALL_LEVELS[0] == "1-1" and ALL_LEVELS[-1] == "8-4"
    for level in ALL_LEVELS:
        spec = gym.spec(env_id(level))
        assert spec.kwargs == {"level": level}
    assert env_id("4-2") == "sb3_mario/SuperMarioBros-4-2-v0"
    assert gym.spec(env_id("world-1")).kwargs == {"level": "world-1"}
    assert gym.spec(RANDOM_STAGES_ID).kwargs == {"level": "random"}


def test_registered_env_gives_preprocessed_observations():
    env = gym.make("sb3_mario/SuperMarioBros-1-1-v0")
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.action_space.n == 5
    assert set(INFO_KEYS) <= set(info) and (info["world"], info["stage"]) == (1, 1)
    assert info["on_ground"] is True  # Mario stands at the start
    env.close()


def test_gymnasium_check_env_passes():
    from gymnasium.utils.env_checker import check_env

    env = gym.make("sb3_mario/SuperMarioBros-1-1-v0")
    check_env(env.unwrapped, skip_render_check=True)
    check_env(env, skip_render_check=True)


@pytest.mark.needs_torch
def test_sb3_check_env_passes():
    from stable_baselines3.common.env_checker import check_env

    check_env(gym.make("sb3_mario/SuperMarioBros-1-1-v0"), warn=True)


@pytest.mark.parametrize(("name", "size"), [("right_only", 5), ("simple", 7), ("complex", 12)])
def test_action_set_sizes(name: str, size: int):
    assert ACTION_SETS[name] == size
    assert make_mario_env("1-1", action_set=name).action_space.n == size


def test_real_episode_ends_with_is_success_false_on_death():
    env = make_mario_env("1-1")
    env.reset(seed=0)
    steps = 0
    while True:
        _, reward, terminated, truncated, info = env.step(RIGHT)
        steps += 1
        if terminated or truncated:
            break
    # running right without jumping walks into the first Goomba
    assert terminated and not truncated and steps < 200
    assert info["is_success"] is False and info["flag_get"] is False
    assert reward < 0  # the death penalty (-25, clipped to -15 per frame)
    assert 250 < info["x_pos"] < 400 and (info["world"], info["stage"]) == (1, 1)


def test_same_seed_same_first_200_observations():
    def rollout(seed: int) -> np.ndarray:
        env = make_mario_env("1-1")
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        out = [obs]
        while len(out) < 200:
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            out.append(obs)
            if terminated or truncated:
                obs, _ = env.reset()
                out.append(obs)
        return np.stack(out[:200])

    first, second = rollout(7), rollout(7)
    np.testing.assert_array_equal(first, second)
    assert len({o.tobytes() for o in first}) > 100  # the frames really change


def test_replayed_frames_reach_the_recorded_episodes_states_exactly():
    """The emulator is deterministic from its reset: replaying the first frames of an episode gives
    the frame and x_pos that episode had there (what ReplayStart relies on)."""
    from sb3_mario.env.backend import action_sets
    from sb3_mario.env.wrappers import ReplayStart

    env = ReplayStart(make_game(1, 1, action_sets()["right_only"], None), 1.0, pool_size=1, margin=10)
    obs, info = env.reset(seed=0)
    frames, xs = [obs], [info["x_pos"]]
    rng = np.random.default_rng(0)
    terminated = truncated = False
    action = 1
    while not (terminated or truncated):
        if len(frames) % 8 == 1:  # a new action held for 8 frames
            action = int(rng.choice([1, 2, 2, 4, 4]))
        obs, _, terminated, truncated, info = env.step(action)
        frames.append(obs)
        xs.append(info["x_pos"])
    cuts = set()
    for _ in range(4):
        obs, info = env.reset()
        cut = info["replayed_frames"]
        np.testing.assert_array_equal(obs, frames[cut])
        assert info["x_pos"] == xs[cut]
        cuts.add(cut)
    assert len(cuts) > 1 and max(cuts) <= int(np.argmax(xs)) - 10


def test_fresh_jump_makes_right_a_held_jump_after_every_landing_on_the_real_game():
    """The game jumps only on a fresh press of A: right+A held from the start jumps once. With
    FreshJump it jumps again after each landing, and its first jump, A held all along, is as long."""
    from sb3_mario.env.backend import action_sets
    from sb3_mario.env.wrappers import FreshJump

    right_a = 2
    airborne = {}
    for fresh in (False, True):
        game = make_game(1, 1, action_sets()["right_only"])
        env = FreshJump(game, action_sets()["right_only"]) if fresh else game
        _, info = env.reset(seed=0)
        ground = [info["on_ground"]]
        for _ in range(150):
            _, _, terminated, _, info = env.step(right_a)
            ground.append(info["on_ground"])
            assert not terminated
        runs = "".join("g" if g else "a" for g in ground).split("g")
        airborne[fresh] = [len(run) for run in runs if run]  # frames in the air, jump by jump
        env.close()
    assert len(airborne[False]) == 1 and len(airborne[True]) >= 3
    assert airborne[True][0] == airborne[False][0] > 30  # a full-height first jump either way


def test_full_jump_keeps_a_jump_cut_after_one_agent_step_full_on_the_real_game():
    """Letting go of A four frames after a take-off ends the rise; with FullJump the jump is as long as one
    with A held all along, whatever the action without A."""
    from sb3_mario.env.backend import action_sets
    from sb3_mario.env.wrappers import FullJump

    noop, right, right_a, right_b = 0, 1, 2, 3
    buttons = action_sets()["right_only"]

    def airborne(full: bool, after: int) -> int:
        game = make_game(1, 1, FullJump.game_buttons(buttons) if full else buttons)
        env = FullJump(game, buttons) if full else game
        _, info = env.reset(seed=0)
        assert info["jumping"] is False
        for _ in range(20):
            env.step(right)
        frames = 0
        for t in range(80):
            _, _, terminated, _, info = env.step(right_a if t < 4 else after)
            frames += info["jumping"]
            assert not terminated
        env.close()
        return frames

    held = airborne(False, right_a)
    assert all(airborne(False, after) < held - 10 for after in (noop, right, right_b))  # the rise cut short
    assert [airborne(True, after) for after in (noop, right, right_b)] == [held] * 3


def test_random_stages_follow_the_seed():
    env = make_mario_env(["1-1", "1-2", "4-1"], frame_skip=4)

    def stages(seed: int) -> list[tuple[int, int]]:
        _, info = env.reset(seed=seed)
        out = [(info["world"], info["stage"])]
        for _ in range(5):
            _, info = env.reset()
            out.append((info["world"], info["stage"]))
        return out

    first = stages(3)
    assert first == stages(3)
    assert set(first) <= {(1, 1), (1, 2), (4, 1)} and len(set(first)) > 1
    env.close()


def test_backend_reward_and_info_on_a_scripted_trajectory():
    """Both generations give the same v0 reward and info on the same inputs (numbers from the legacy one)."""
    from gym_super_mario_bros.actions import RIGHT_ONLY

    game = make_game(1, 1, RIGHT_ONLY)
    _, info = game.reset(seed=0)
    assert info["x_pos"] == 40 and info["time"] == 400
    actions = np.random.default_rng(123).integers(0, 5, 300)
    rewards, xs = [], []
    for action in actions:
        _, reward, terminated, truncated, info = game.step(int(action))
        rewards.append(reward)
        xs.append(info["x_pos"])
        assert not (terminated or truncated)
    assert (sum(rewards), xs[-1], info["time"], info["score"]) == (539.0, 594, 385, 100)
    game.close()


def test_render_gives_full_colour_frame():
    env = make_mario_env("1-1", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(RIGHT)
    frame = env.render()
    assert frame.shape == (240, 256, 3) and frame.dtype == np.uint8 and frame.std() > 10


def test_env_layer_imports_without_torch():
    code = "import sys, sb3_mario; sb3_mario.make_mario_env('1-1'); assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_backend_matches_python_version():
    assert backend_name() == ("native" if sys.version_info >= (3, 13) else "legacy")
    assert sb3_mario.__getattr__  # the agent names load lazily


def test_observations_are_fresh_copies_of_the_screen():
    from gym_super_mario_bros.actions import RIGHT_ONLY

    game = make_game(1, 1, RIGHT_ONLY)
    first, _ = game.reset(seed=0)
    np.testing.assert_array_equal(first, np.asarray(game._nes.screen))
    obs = first
    for _ in range(30):
        previous = obs
        obs, *_ = game.step(RIGHT)
        np.testing.assert_array_equal(obs, np.asarray(game._nes.screen))
    assert not np.shares_memory(obs, previous) and not np.array_equal(first, obs)
    assert obs.flags.c_contiguous and obs.shape == (240, 256, 3)
