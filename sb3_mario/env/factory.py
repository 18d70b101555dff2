"""The env factory: the only place where Mario envs are built.

``make_mario_env`` composes the tutorial's preprocessing on the raw game
(see ``docs/environment.md``)::

    game (240x256x3 RGB, Discrete(n_actions))
    [-> FreshJump]                        optional, off by default: a jump action on the ground always jumps
    [-> FullJump]                         optional, off by default: A stays pressed while Mario is in a jump
    [-> FlagBonus(b)]                     optional, off by default: + b on the step that reaches the flag
    [-> ReplayStart(p)]                   optional, off by default (training): some starts along earlier episodes
    [-> StickyAction(p)]                  optional, off by default: each frame repeats the last with prob. p
    [-> RandomNoopStart(n)]              optional, off by default (evaluation; random or in turn)
    -> MaxAndSkipObservation(skip=4)      repeat the action 4 frames, sum rewards, max of last 2
    [-> RandomAction(p)]                  optional, off by default (training): a random action with prob. p
    -> MarioFrameObservation(84)          crop the HUD, grayscale, 84x84 uint8
    -> FrameStackObservation(4, zeros)    (4, 84, 84) uint8, oldest frame first
    [-> NoProgressTruncation(n)]          optional, off by default
    [-> TransformReward(r * scale)]       optional, off by default: rewards in other units
    -> MarioEpisodeInfo                   info["is_success"] = flag_get at episode end

Observations stay uint8: SB3's policies divide by 255 (``normalize_images=True``), so a replay
buffer stores 1 byte per pixel instead of the tutorial's 4.
"""

from __future__ import annotations

import functools
import math
import operator
import signal
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import gymnasium as gym
from gymnasium.wrappers import FrameStackObservation, MaxAndSkipObservation, StickyAction, TransformReward

from sb3_mario.env.backend import action_sets, make_game
from sb3_mario.env.levels import RandomStageGame, level_names, parse_level
from sb3_mario.env.wrappers import (
    FlagBonus,
    FreshJump,
    FullJump,
    MarioEpisodeInfo,
    MarioFrameObservation,
    NoProgressTruncation,
    RandomAction,
    RandomNoopStart,
    ReplayStart,
)

if TYPE_CHECKING:
    from stable_baselines3.common.vec_env import VecEnv

#: Action-set names and their sizes: RIGHT_ONLY (the tutorial's), SIMPLE_MOVEMENT, COMPLEX_MOVEMENT.
ACTION_SETS: dict[str, int] = {"right_only": 5, "simple": 7, "complex": 12}

#: The action set of an env built without one: the tutorial's RIGHT_ONLY.
DEFAULT_ACTION_SET = "right_only"

#: Episode-end info keys that the Monitor copies into ``info["episode"]``.
EPISODE_INFO_KEYS = ("is_success", "x_pos", "world", "stage", "replayed_frames")


def _buttons(action_set: str) -> list[list[str]]:
    if action_set not in ACTION_SETS:
        raise ValueError(f"unknown action set {action_set!r}: valid action sets are {', '.join(ACTION_SETS)}")
    return action_sets()[action_set]


def action_set_of(env_kwargs: Mapping[str, Any]) -> str:
    """The action set that :func:`make_mario_env` builds from ``env_kwargs``: theirs, or :data:`DEFAULT_ACTION_SET`."""
    return env_kwargs.get("action_set", DEFAULT_ACTION_SET)


def make_mario_env(
    level: str | Sequence[str] = "1-1",
    *,
    action_set: str = DEFAULT_ACTION_SET,
    frame_skip: int = 4,
    frame_size: int = 84,
    frame_stack: int = 4,
    no_progress_steps: int | None = None,
    noop_max: int = 0,
    noop_in_turn: bool = False,
    repeat_action_probability: float = 0.0,
    random_action_probability: float = 0.0,
    replay_start_probability: float = 0.0,
    reward_scale: float = 1.0,
    flag_bonus: float = 0.0,
    fresh_jump: bool = False,
    full_jump: bool = False,
    render_mode: str | None = None,
) -> gym.Env:
    """Build one preprocessed Super Mario Bros env.

    :param level: ``"1-1"`` .. ``"8-4"``; several (a sequence of them, a comma-separated list,
        ``"world-1"`` .. ``"world-8"`` or ``"random"`` for all 32, see
        :func:`~sb3_mario.env.levels.level_names`) draw a stage at each reset
    :param action_set: ``"right_only"`` (the tutorial's 5 actions), ``"simple"`` (7) or ``"complex"`` (12)
    :param frame_skip: frames each action is repeated, 4 as in the tutorial and the DQN Nature paper
    :param frame_size: side of the square grayscale frame, 84 as in the tutorial
    :param frame_stack: frames stacked per observation, 4 as in the tutorial
    :param no_progress_steps: truncate an episode after this many agent steps without a new best
        ``x_pos``; ``None`` (default) never truncates, as in the tutorial
    :param noop_max: start episodes with 0..``noop_max`` random no-op frames (0, the default, never
        does; 30 in Mnih et al. 2015), to evaluate a deterministic agent on varied starts
    :param noop_in_turn: play the starts in turn instead of drawing them: 0, 1, ..., ``noop_max`` no-op
        frames on successive resets (see :class:`~sb3_mario.env.wrappers.RandomNoopStart`) and, with
        several levels, each level for ``noop_max + 1`` resets in the order given (see
        :class:`~sb3_mario.env.levels.RandomStageGame`), so that ``(noop_max + 1) * len(levels)`` resets
        play every start of every level once
    :param repeat_action_probability: sticky actions: at every emulator frame the previous frame's
        action is repeated with this probability instead of the agent's (0, the default, never;
        0.25 in Machado et al. 2018 and ALE v5), so a memorised sequence of actions cannot win
    :param random_action_probability: at each agent step, a uniformly random action replaces the
        agent's with this probability (0, the default, never): ``evaluate --epsilon``'s random actions
        made part of training's dynamics, so that the values learnt allow for them (see
        :class:`~sb3_mario.env.wrappers.RandomAction`)
    :param replay_start_probability: chance that a reset starts part-way along one of the farthest
        earlier episodes of this env, replayed frame by frame (0, the default, never; see
        :class:`~sb3_mario.env.wrappers.ReplayStart`, which keeps each level's episodes apart)
    :param reward_scale: every reward is multiplied by this (1, the default: the game's own, up to 15 per
        frame); 0.1 brings a step's reward to the order of 1, where Huber's delta of 1 and Adam's epsilon
        were tuned (DQN clips Atari rewards to [-1, 1])
    :param flag_bonus: reward added on the step that reaches the flag, in the game's units, before
        ``reward_scale`` (0, the default: the game's own reward, which has none; 50 in
        gym-super-mario-bros 9's default reward and in uvipen/Super-mario-bros-PPO-pytorch), see
        :class:`~sb3_mario.env.wrappers.FlagBonus`
    :param fresh_jump: a jump action always jumps when Mario stands on the ground: A held from an
        earlier frame is released for one frame and pressed again (False, the default: the game's
        own controls, where a held A never jumps again), see :class:`~sb3_mario.env.wrappers.FreshJump`
    :param full_jump: every jump is a full jump: while Mario is in the air by a jump, each action presses A
        with its own buttons, so no action can cut a jump short (False, the default: the game's own
        controls, where letting go of A ends the rise), see :class:`~sb3_mario.env.wrappers.FullJump`
    :param render_mode: ``"rgb_array"`` makes ``render()`` return the full-colour 240x256 frame
    """
    if frame_skip < 1:
        raise ValueError(f"frame_skip must be >= 1, actual value: {frame_skip}")
    if frame_stack < 1:
        raise ValueError(f"frame_stack must be >= 1, actual value: {frame_stack}")
    if noop_max < 0:
        raise ValueError(f"noop_max must be >= 0, actual value: {noop_max}")
    if not 0.0 <= repeat_action_probability < 1.0:
        raise ValueError(f"repeat_action_probability must be in [0, 1), actual value: {repeat_action_probability}")
    if not reward_scale > 0:
        raise ValueError(f"reward_scale must be > 0, actual value: {reward_scale}")
    if not (math.isfinite(flag_bonus) and flag_bonus >= 0):
        raise ValueError(f"flag_bonus must be a finite number >= 0, actual value: {flag_bonus}")
    if not 0.0 <= replay_start_probability <= 1.0:
        raise ValueError(f"replay_start_probability must be in [0, 1], actual value: {replay_start_probability}")
    buttons = _buttons(action_set)
    game_buttons = FullJump.game_buttons(buttons) if full_jump else buttons
    levels = level_names(level)
    if len(levels) == 1:
        env: gym.Env = make_game(*parse_level(levels[0]), game_buttons, render_mode)
    else:
        env = RandomStageGame(levels, game_buttons, render_mode, turn_length=noop_max + 1 if noop_in_turn else None)
    if fresh_jump:
        env = FreshJump(env, game_buttons)
    if full_jump:
        env = FullJump(env, buttons)
    if flag_bonus > 0:
        env = FlagBonus(env, flag_bonus)
    if replay_start_probability > 0:
        env = ReplayStart(env, replay_start_probability)
    if repeat_action_probability > 0:
        env = StickyAction(env, repeat_action_probability)
    if noop_max > 0:
        env = RandomNoopStart(env, noop_max, in_turn=noop_in_turn)
    if frame_skip > 1:
        env = MaxAndSkipObservation(env, skip=frame_skip)
    if random_action_probability != 0:  # RandomAction checks the value
        env = RandomAction(env, random_action_probability)
    env = MarioFrameObservation(env, size=frame_size)
    env = FrameStackObservation(env, frame_stack, padding_type="zero")
    if no_progress_steps is not None:
        env = NoProgressTruncation(env, no_progress_steps)
    if reward_scale != 1.0:
        env = TransformReward(env, functools.partial(operator.mul, reward_scale))
    return MarioEpisodeInfo(env)


def _make_in_worker(**kwargs: Any) -> gym.Env:
    """``make_mario_env`` for a subprocess env: Ctrl-C reaches the trainer only, which stops
    cleanly and saves, instead of killing the workers under it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return make_mario_env(**kwargs)


def make_mario_vec_env(
    n_envs: int = 1,
    level: str | Sequence[str] = "1-1",
    *,
    seed: int | None = None,
    start_index: int = 0,
    vec_env: str = "dummy",
    monitor_dir: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> VecEnv:
    """Build ``n_envs`` preprocessed envs in a SB3 vec env, each behind a ``Monitor``.

    The monitor records :data:`EPISODE_INFO_KEYS` in ``info["episode"]`` (and its CSV).

    :param n_envs: number of envs
    :param level: as in :func:`make_mario_env`
    :param seed: seed of the first env; env ``i`` gets ``seed + start_index + i`` (SB3's ``make_vec_env``)
    :param start_index: offset of the env indices, for seeds and monitor file names
    :param vec_env: ``"dummy"`` (one process) or ``"subproc"`` (one process per env)
    :param monitor_dir: where the monitors write ``<index>.monitor.csv``; ``None`` writes none
    :param env_kwargs: further keyword arguments of :func:`make_mario_env`
    """
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    classes = {"dummy": DummyVecEnv, "subproc": SubprocVecEnv}
    if n_envs < 1:
        raise ValueError(f"n_envs must be >= 1, actual value: {n_envs}")
    if vec_env not in classes:
        raise ValueError(f"unknown vec_env {vec_env!r}: valid values are {', '.join(classes)}")
    kwargs = {"level": level, **(env_kwargs or {})}
    if vec_env == "subproc":  # a bad argument raises here, not as a broken pipe from a worker
        make_mario_env(**kwargs).close()
    return make_vec_env(
        _make_in_worker if vec_env == "subproc" else make_mario_env,
        n_envs=n_envs,
        seed=seed,
        start_index=start_index,
        monitor_dir=monitor_dir,
        env_kwargs=kwargs,
        vec_env_cls=classes[vec_env],
        monitor_kwargs={"info_keywords": EPISODE_INFO_KEYS},
    )
