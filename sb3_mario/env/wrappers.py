"""Mario-specific gymnasium wrappers.

Frame skipping (:class:`gymnasium.wrappers.MaxAndSkipObservation`) and stacking
(:class:`gymnasium.wrappers.FrameStackObservation`) are gymnasium's own; only what is specific
to Super Mario Bros lives here.
"""

from __future__ import annotations

import warnings
from typing import Any

import cv2
import gymnasium as gym
import numpy as np
from gymnasium import spaces

#: Height in pixels of the status bar (score, coins, world, clock) at the top of the NES frame.
HUD_HEIGHT = 32


class MarioFrameObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Crop the status bar, convert to grayscale and resize to ``size x size`` uint8 in one pass.

    The 240x256 frame loses its top :data:`HUD_HEIGHT` rows (score, coins, world, clock): they change
    with the clock whatever the agent does and carry nothing needed to steer. The tutorial's
    ``ProcessFrame84`` crops too (it resizes to 84x110 and keeps rows 18..101, which drops about
    39 rows at the top and 17 at the bottom); we crop exactly the HUD and keep the ground rows so
    pits stay visible. Grayscale uses ``cv2.COLOR_RGB2GRAY`` (0.299 R + 0.587 G + 0.114 B, the
    tutorial's weights) and resizing ``cv2.INTER_AREA`` (as SB3's ``WarpFrame``).

    :param env: env with (H, W, 3) uint8 RGB observations
    :param size: side of the square output, 84 after the DQN Nature paper and the tutorial
    :param crop_top: rows removed at the top before resizing
    """

    def __init__(self, env: gym.Env, *, size: int = 84, crop_top: int = HUD_HEIGHT):
        gym.utils.RecordConstructorArgs.__init__(self, size=size, crop_top=crop_top)
        gym.ObservationWrapper.__init__(self, env)
        shape = env.observation_space.shape
        if shape is None or len(shape) != 3 or shape[2] != 3:
            raise ValueError(f"MarioFrameObservation expects (H, W, 3) RGB frames, actual shape: {shape}")
        if size < 1:
            raise ValueError(f"size must be >= 1, actual value: {size}")
        if not 0 <= crop_top < shape[0]:
            raise ValueError(f"crop_top must be in [0, {shape[0]}), actual value: {crop_top}")
        self._size = size
        self._crop_top = crop_top
        self.observation_space = spaces.Box(0, 255, (size, size), dtype=np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(observation[self._crop_top :], cv2.COLOR_RGB2GRAY)
        return cv2.resize(gray, (self._size, self._size), interpolation=cv2.INTER_AREA)


class MarioEpisodeInfo(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Report a win as ``info["is_success"]`` at the end of each episode.

    SB3's convention: ``info["is_success"]`` on the last step of an episode feeds
    ``rollout/success_rate`` and ``eval/success_rate``. Here it is ``flag_get``. The final
    ``x_pos``, ``world`` and ``stage`` are in the same info (the backend guarantees them), and
    ``replayed_frames`` (0 unless :class:`ReplayStart` started the episode part-way), so a
    :class:`~stable_baselines3.common.monitor.Monitor` with those ``info_keywords`` copies them
    into ``info["episode"]``.
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            info["is_success"] = bool(info["flag_get"])
            info.setdefault("replayed_frames", 0)
        return obs, reward, terminated, truncated, info


class NoProgressTruncation(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Truncate the episode when ``x_pos`` has not beaten its best for ``max_steps`` steps.

    Mario stuck against a pipe otherwise burns the whole game clock (up to 400 game seconds,
    about 1,500 agent steps) on one useless episode.

    :param env: env whose info holds ``x_pos``
    :param max_steps: steps without a new best ``x_pos`` before the episode is truncated
    """

    def __init__(self, env: gym.Env, max_steps: int):
        gym.utils.RecordConstructorArgs.__init__(self, max_steps=max_steps)
        gym.Wrapper.__init__(self, env)
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, actual value: {max_steps}")
        self._max_steps = max_steps
        self._best_x = 0
        self._stalled = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._best_x = int(info["x_pos"])
        self._stalled = 0
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if int(info["x_pos"]) > self._best_x:
            self._best_x = int(info["x_pos"])
            self._stalled = 0
        else:
            self._stalled += 1
        if self._stalled >= self._max_steps and not terminated:
            truncated = True
        return obs, reward, terminated, truncated, info


class RandomNoopStart(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Start each episode with a random number (0..``noop_max``) of no-op actions.

    The emulator is deterministic: a greedy agent replays the same episode from the same start.
    Random no-op starts (Mnih et al., 2015, use up to 30) shift the timing of enemies so that
    evaluation measures robustness rather than one memorised run. Action 0 must be the no-op,
    as in every action set of gym-super-mario-bros.

    With ``in_turn``, resets play 0, 1, ..., ``noop_max``, 0, ... no-ops instead: ``noop_max + 1``
    greedy episodes then try every start once, which gives the exact win rate that random starts
    estimate. A reset given a seed starts the cycle again at 0, so every seeded series of resets
    plays the same starts. The count played is in the reset's ``info["noops"]``.

    :param env: env whose action 0 is the no-op
    :param noop_max: largest number of no-op steps at the start of an episode
    :param in_turn: cycle through the counts instead of drawing them
    """

    def __init__(self, env: gym.Env, noop_max: int = 30, in_turn: bool = False):
        gym.utils.RecordConstructorArgs.__init__(self, noop_max=noop_max, in_turn=in_turn)
        gym.Wrapper.__init__(self, env)
        if noop_max < 0:
            raise ValueError(f"noop_max must be >= 0, actual value: {noop_max}")
        self._noop_max = noop_max
        self._in_turn = in_turn
        self._resets = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        if seed is not None:
            self._resets = 0
        if self._in_turn:
            noops = self._resets % (self._noop_max + 1)
        else:
            noops = int(self.np_random.integers(0, self._noop_max + 1))
        self._resets += 1
        for _ in range(noops):
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset()
        return obs, {**info, "noops": noops}


def _pressed(buttons: list[str]) -> frozenset[str]:
    """The buttons an action presses: its names without ``"NOOP"``."""
    return frozenset(buttons) - {"NOOP"}


class FreshJump(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Make every jump action jump when Mario stands on the ground, by pressing A afresh.

    The game starts a jump only on a new press of A: a jump action held over a landing, or
    against a wall, does nothing, and whether A is still held is not in the frames. The same
    screen then calls for different actions (release A and press it again, or jump), which a
    network of stacked frames cannot tell apart; greedy agents were seen standing at the first
    staircase and at the flagpole's base until the episode was cut (docs/results.md). Here, when A
    was held for the last two frames and Mario stands on the ground, this frame sends the
    action without A, so the next frame presses it afresh and jumps. A fresh press shows on the
    ground state one frame late, which is why one held frame is not enough to release. Jumps in
    the air are untouched: holding A still makes a jump higher.

    It must wrap the game itself (one emulator frame per step), below sticky actions and frame
    skipping, so that it sees every frame the emulator plays.

    :param env: the game: one emulator frame per step, ``info["on_ground"]`` after reset and every step
    :param buttons: the button names of each discrete action; every action with ``"A"`` needs one
        with the same buttons without it (``["NOOP"]`` for ``["A"]``), as in every action set of
        gym-super-mario-bros
    """

    def __init__(self, env: gym.Env, buttons: list[list[str]]):
        gym.utils.RecordConstructorArgs.__init__(self, buttons=buttons)
        gym.Wrapper.__init__(self, env)
        index = {_pressed(b): i for i, b in enumerate(buttons)}
        self._release: dict[int, int] = {}
        for i, b in enumerate(buttons):
            if "A" in b:
                without = _pressed(b) - {"A"}
                if without not in index:
                    raise ValueError(f"action {b} has no counterpart without A in the action set {buttons}")
                self._release[i] = index[without]
        self._held = 0  # frames in a row that A was sent
        self._on_ground = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._held, self._on_ground = 0, bool(info["on_ground"])
        return obs, info

    def step(self, action: Any):
        action = int(action)
        if action in self._release and self._held >= 2 and self._on_ground:
            action = self._release[action]
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._held = self._held + 1 if action in self._release else 0
        self._on_ground = bool(info["on_ground"])
        return obs, reward, terminated, truncated, info


class FullJump(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Make every jump a full jump: while Mario is in the air by a jump, A stays pressed whatever the action.

    In the game a jump rises for as long as A is held, and letting go of A in the rise ends it. So
    one action without A in the few agent steps after a take-off (an epsilon-greedy draw, say) cuts
    a jump short, and at a pit's edge that is a fall: most of the losses of greedy-trained models
    to evaluation's random actions were such cuts (docs/results.md). Whether A is held is not in
    the frames either, so the height of a jump under way is hidden from a network of stacked
    frames. Here every action sent while ``info["jumping"]`` holds presses A with its own buttons;
    on the ground and in a fall off a ledge the actions are the game's own. The agent keeps its
    action set; the game gets the counterparts with A that the set lacks (``["A"]`` for ``["NOOP"]``
    in RIGHT_ONLY), from :meth:`game_buttons`.

    It must wrap the game itself (one emulator frame per step), below sticky actions and frame
    skipping, and above :class:`FreshJump`, which then sees A as the game gets it.

    :param env: the game, built with ``FullJump.game_buttons(buttons)``: one emulator frame per step,
        ``info["jumping"]`` after reset and every step
    :param buttons: the button names of the agent's discrete actions
    """

    def __init__(self, env: gym.Env, buttons: list[list[str]]):
        gym.utils.RecordConstructorArgs.__init__(self, buttons=buttons)
        gym.Wrapper.__init__(self, env)
        game_buttons = self.game_buttons(buttons)
        if env.action_space.n != len(game_buttons):
            raise ValueError(
                f"the game has {env.action_space.n} actions, expected {len(game_buttons)}: "
                "build it with FullJump.game_buttons(buttons)"
            )
        index = {_pressed(b): i for i, b in enumerate(game_buttons)}
        self._with_a = [index[_pressed(b) | {"A"}] for b in buttons]
        self.action_space = gym.spaces.Discrete(len(buttons))
        self._jumping = False

    @staticmethod
    def game_buttons(buttons: list[list[str]]) -> list[list[str]]:
        """``buttons``, then each counterpart with A that they lack, in their order."""
        have = {_pressed(b) for b in buttons}
        extra = []
        for b in buttons:
            with_a = _pressed(b) | {"A"}
            if with_a not in have:
                have.add(with_a)
                extra.append([name for name in b if name != "NOOP"] + ["A"])
        return [list(b) for b in buttons] + extra

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._jumping = bool(info["jumping"])
        return obs, info

    def step(self, action: Any):
        action = int(action)
        if self._jumping:
            action = self._with_a[action]
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._jumping = bool(info["jumping"])
        return obs, reward, terminated, truncated, info


class FlagBonus(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Add ``bonus`` to the reward of the step that reaches the flag.

    The game's (v0) reward counts progress, the clock and death, and nothing for the flag: the
    episode ends there as it ends on a death without the penalty, so a few pixels before the pole,
    with no progress left to earn, standing still is worth about as much as finishing.
    gym-super-mario-bros 9's own reward adds 50 on the flag, and so does the PPO agent of
    uvipen/Super-mario-bros-PPO-pytorch (before dividing every reward by 10).

    :param env: env whose info holds ``flag_get``
    :param bonus: reward added when an episode ends with the flag, in the game's units
    """

    def __init__(self, env: gym.Env, bonus: float):
        gym.utils.RecordConstructorArgs.__init__(self, bonus=bonus)
        gym.Wrapper.__init__(self, env)
        self._bonus = float(bonus)

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated and info["flag_get"]:
            reward = float(reward) + self._bonus
        return obs, reward, terminated, truncated, info


class RandomAction(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """With probability ``probability``, play a uniformly random action instead of the agent's.

    Epsilon-greedy evaluation (``sb3-mario evaluate --epsilon``) makes the same draw at each agent
    step. In training, exploration's random actions do not change what Q-learning learns: its
    target assumes greedy play from the next state on, so a greedy agent learns the shortest path
    along a pit's edge, where one random action kills it (the cliff walk of Sutton & Barto 2018,
    Example 6.6). Here the random action is part of the env's dynamics: the replay buffer keeps the
    agent's action, the target sees what followed, and the values learnt price in the chance of a
    random step as they price in sticky actions'.

    It wraps the frame-skipped env, so that a draw replaces the action of a whole agent step, as
    the evaluation's epsilon does. The draws use the env's ``np_random``, so ``reset(seed=...)``
    fixes them.

    :param env: env with a ``Discrete`` action space
    :param probability: chance of a random action at each step, in [0, 1)
    """

    def __init__(self, env: gym.Env, probability: float):
        if not 0.0 <= probability < 1.0:
            raise ValueError(f"random_action_probability must be in [0, 1), actual value: {probability}")
        gym.utils.RecordConstructorArgs.__init__(self, probability=probability)
        gym.ActionWrapper.__init__(self, env)
        self._probability = float(probability)

    def action(self, action: Any) -> int:
        if self.np_random.random() < self._probability:
            return int(self.np_random.integers(self.action_space.n))
        return int(action)


class ReplayStart(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Start some episodes part-way along one of the farthest earlier episodes, by replaying its frames.

    Most training episodes of a young agent end at the first obstacles, so the far end of a level is
    seen a few times in a thousand episodes. With ``probability``, a reset instead replays, frame by
    frame, the start of one of the ``pool_size`` episodes that got farthest so far (one drawn at
    random), cut at a random frame before the point where it got farthest, and the new episode goes
    on from there: the starts spread over the part of the level the agent has reached. This is the
    restart from states along earlier runs of Salimans and Chen (2018) and Go-Explore (Ecoffet et
    al. 2021), with the agent's own episodes instead of a demonstration. The emulator is
    deterministic, so replaying an episode's frame actions from the game's reset reaches its states
    exactly; the replay costs emulator time, not env steps.

    It must wrap the game itself (one emulator frame per step), below sticky actions, no-op starts
    and frame skipping, so that it records the actions the emulator played. Evaluation never uses
    it: every evaluation episode starts at the game's start. The frames replayed at the start of
    the current episode are ``info["replayed_frames"]`` after reset and every step (0 for an episode
    from the game's start).

    Each level keeps its own pool, named ``"<world>-<stage>"`` after the reset's info: over a game
    that draws its stage at each reset (:class:`~sb3_mario.env.levels.RandomStageGame`), a replay
    goes on along an earlier episode of the stage that reset drew, so every stage's starts spread
    over the part of it the agent has reached.

    :param env: the game: one emulator frame per step, deterministic from its reset
    :param probability: chance that a reset starts along an earlier episode
    :param pool_size: farthest episodes kept per level (by their best ``x_pos``)
    :param margin: frames before an episode's farthest point where no start is cut (60: one second
        of play, so that a start is not a moment before the death that ended that episode)
    """

    def __init__(self, env: gym.Env, probability: float, *, pool_size: int = 16, margin: int = 60):
        gym.utils.RecordConstructorArgs.__init__(self, probability=probability, pool_size=pool_size, margin=margin)
        gym.Wrapper.__init__(self, env)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be in [0, 1], actual value: {probability}")
        if pool_size < 1:
            raise ValueError(f"pool_size must be >= 1, actual value: {pool_size}")
        if margin < 1:
            raise ValueError(f"margin must be >= 1, actual value: {margin}")
        self._probability = probability
        self._pool_size = pool_size
        self._margin = margin
        #: per level, (best x_pos, frames up to and including the one that reached it) of its farthest episodes
        self.pools: dict[str, list[tuple[int, np.ndarray]]] = {}
        self._level = ""
        self._actions: list[int] = []
        self._best_x = -1
        self._best_frame = 0
        self._replayed = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._keep_episode()
        obs, info = self.env.reset(seed=seed, options=options)
        self._start(info)
        pool = self.pools.get(self._level)
        if pool and self.np_random.random() < self._probability:
            _, frames = pool[int(self.np_random.integers(len(pool)))]
            cut = int(self.np_random.integers(0, max(len(frames) - self._margin, 0) + 1))
            for action in frames[:cut]:
                obs, _, terminated, truncated, info = self._step(int(action))
                if terminated or truncated:  # not the recorded episode: the game is not deterministic
                    warnings.warn(
                        f"replaying {cut} recorded frames ended the episode at frame {len(self._actions)}: "
                        "this episode starts at the game's start",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    obs, info = self.env.reset()
                    self._start(info)
                    break
            self._replayed = len(self._actions)
        info["replayed_frames"] = self._replayed
        return obs, info

    def set_pools(self, pools: dict[str, list[tuple[int, np.ndarray]]]) -> None:
        """Take pools kept elsewhere, as a run resumed from its checkpoint does: per level, the
        farthest ``pool_size`` of its entries (best ``x_pos`` and the frames up to it)."""
        self.pools = {}
        for level, pool in pools.items():
            entries = sorted(((int(x), np.asarray(frames, dtype=np.uint8)) for x, frames in pool), key=lambda e: e[0])
            self.pools[level] = entries[-self._pool_size :]

    def step(self, action: Any):
        return self._step(int(action))

    def _step(self, action: int):
        """One frame, recorded; its info (a fresh dict from the game) carries ``replayed_frames``."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._actions.append(action)
        x = int(info["x_pos"])
        if x > self._best_x:
            self._best_x, self._best_frame = x, len(self._actions)
        info["replayed_frames"] = self._replayed
        return obs, reward, terminated, truncated, info

    def _start(self, info: dict[str, Any]) -> None:
        """Begin recording an episode from the game's reset (``info``: the reset's)."""
        self._level = f"{info['world']}-{info['stage']}"
        self._actions, self._replayed = [], 0
        self._best_x, self._best_frame = int(info["x_pos"]), 0

    def _keep_episode(self) -> None:
        """Put the episode just played in its level's pool when it is among that level's farthest."""
        if not self._actions:
            return
        entry = (self._best_x, np.array(self._actions[: self._best_frame], dtype=np.uint8))
        pool = self.pools.setdefault(self._level, [])
        if len(pool) < self._pool_size:
            pool.append(entry)
        elif self._best_x > min(x for x, _ in pool):
            pool[min(range(len(pool)), key=lambda i: pool[i][0])] = entry
        self._actions = []
