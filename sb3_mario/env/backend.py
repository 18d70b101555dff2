"""The one place that knows which generation of the game package is installed.

Two generations of ``gym-super-mario-bros`` exist:

* **legacy** (``gym-super-mario-bros`` 7.4.0 + ``nes-py`` 8.2.1, Python < 3.13): old ``gym`` API
  (4-tuple ``step``, ``reset()`` without seed), bridged to gymnasium with
  :class:`shimmy.GymV21CompatibilityV0`.
* **native** (``gym-super-mario-bros`` >= 9.1 + ``nes-py`` >= 9.0.1, Python >= 3.13): gymnasium API,
  but a richer default reward (score, coins, power-ups, +50 on the flag).

:func:`make_game` returns the same thing on both: a gymnasium env of raw 240x256x3 RGB frames
with a ``Discrete`` action space, ``reset(seed=...)``, the legacy (v0) reward
``dx + clock + death`` clipped to [-15, 15], and an info dict that always holds
``x_pos``, ``world``, ``stage``, ``flag_get``, ``life``, ``time``, ``score`` and ``coins``, and
``on_ground`` and ``jumping``, read from the emulator's RAM.
Nothing else in ``sb3_mario`` imports the game package.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
from typing import Any

import gymnasium as gym
import numpy as np

#: Info keys present after ``reset`` and every ``step`` on both generations.
INFO_KEYS = ("x_pos", "world", "stage", "flag_get", "life", "time", "score", "coins")

#: RAM address of the game's ``Player_State`` (SMB disassembly, ``$1D``): 0 standing or walking on the ground,
#: 1 airborne by a jump, 2 falling off a ledge, 3 sliding down the flagpole.
PLAYER_STATE_ADDRESS = 0x001D

#: The per-step reward range of the game env (gym-super-mario-bros' ``reward_range``).
REWARD_RANGE = (-15.0, 15.0)


def backend_name() -> str:
    """Return ``"native"`` when nes-py >= 9 is installed, else ``"legacy"``."""
    major = int(importlib.metadata.version("nes-py").split(".")[0])
    return "native" if major >= 9 else "legacy"


def _import(name: str) -> Any:
    """Import a module of the game package; the legacy ``gym`` 0.26 prints an "unmaintained"
    notice to stderr on first import, which is swallowed here."""
    with contextlib.redirect_stderr(io.StringIO()):
        return importlib.import_module(name)


def quiet_legacy_import() -> None:
    """Import the legacy ``gym`` once without its stderr notice (SB3 and shimmy import it too)."""
    if backend_name() == "legacy":
        _import("gym")


def action_sets() -> dict[str, list[list[str]]]:
    """Return the game package's button lists by our action-set name."""
    actions = _import("gym_super_mario_bros.actions")

    return {
        "right_only": actions.RIGHT_ONLY,
        "simple": actions.SIMPLE_MOVEMENT,
        "complex": actions.COMPLEX_MOVEMENT,
    }


def _pick_info(info: dict[str, Any]) -> dict[str, Any]:
    """Keep the cross-generation keys, as plain Python values."""
    out = {key: info[key] for key in INFO_KEYS}
    out["flag_get"] = bool(out["flag_get"])
    return out


def _frame_copier(nes: Any) -> Any:
    """A fast copy of the emulator's RGB view.

    Both generations expose the screen as a channel-reversed view of a (240, 256, 4) buffer;
    copying that strided view costs about a third of an emulator frame. nes-py 9 offers a
    contiguous copy (``observation("rgb_array_contiguous")``); on nes-py 8, converting the
    contiguous buffer with ``cv2.cvtColor(BGRA2RGB)`` gives the same pixels several times faster.
    A fast path is used only when it reproduces ``screen.copy()`` exactly.
    """
    import cv2

    screen = nes.screen
    if hasattr(nes, "observation"):
        native = lambda: nes.observation("rgb_array_contiguous")  # noqa: E731
        if np.array_equal(native(), screen):
            return native
    base = screen.base
    if isinstance(base, np.ndarray) and base.size == 240 * 256 * 4 and base.flags.c_contiguous:
        frame4 = base.reshape(240, 256, 4)
        fast = lambda: cv2.cvtColor(frame4, cv2.COLOR_BGRA2RGB)  # noqa: E731
        if fast().shape == screen.shape and np.array_equal(fast(), screen):
            return fast
    return screen.copy


class _Game(gym.Env):
    """A stage of the game behind the gymnasium API; subclasses wrap one generation's env.

    Every observation is a fresh array (gymnasium's contract): the emulator's screen is a view
    that the next frame overwrites.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(self, game: Any, nes: Any, render_mode: str | None):
        self._game = game
        self._nes = nes
        self._copy_frame = _frame_copier(nes)
        self.observation_space = gym.spaces.Box(0, 255, (240, 256, 3), dtype=np.uint8)
        self.action_space = gym.spaces.Discrete(int(game.action_space.n))
        self.render_mode = render_mode

    @property
    def nes(self) -> Any:
        """The emulator under the action set (gym-super-mario-bros' ``SuperMarioBrosEnv``), for tools that step it
        frame by frame with button bits and save or restore its state (``scripts/pit_jumps.py``)."""
        return self._nes

    def render(self) -> np.ndarray | None:
        return self._copy_frame() if self.render_mode == "rgb_array" else None

    def _info(self, info: dict[str, Any]) -> dict[str, Any]:
        """The cross-generation info, with ``on_ground``: Mario stands on the ground (``Player_State`` 0), and
        ``jumping``: he is in the air by a jump (``Player_State`` 1), rising or falling."""
        state = int(self._nes.ram[PLAYER_STATE_ADDRESS])
        return {**_pick_info(info), "on_ground": state == 0, "jumping": state == 1}

    def close(self) -> None:
        if self._game is not None:  # gymnasium asks close() to be idempotent
            self._game.close()
            self._game = None


class _LegacyGame(_Game):
    """Legacy generation: the old-API env behind :class:`shimmy.GymV21CompatibilityV0`."""

    def __init__(self, world: int, stage: int, buttons: list[list[str]], render_mode: str | None):
        nes = _import("gym_super_mario_bros").SuperMarioBrosEnv(target=(world, stage))
        game = _import("nes_py.wrappers").JoypadSpace(nes, buttons)
        super().__init__(_import("shimmy").GymV21CompatibilityV0(env=game), nes, render_mode)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        # The bridge seeds the legacy env through its old ``seed()`` method, because
        # ``JoypadSpace.reset()`` takes no seed. The emulator itself is deterministic.
        obs, _ = self._game.reset(seed=seed)
        return self._copy_frame(), self._info(self._nes._get_info())

    def step(self, action: int):
        obs, reward, terminated, truncated, info = self._game.step(int(action))
        return self._copy_frame(), float(reward), terminated, truncated, self._info(info)


class _NativeGame(_Game):
    """Native generation: gymnasium already; the reward is brought back to the v0 definition."""

    def __init__(self, world: int, stage: int, buttons: list[list[str]], render_mode: str | None):
        nes = _import("gym_super_mario_bros").SuperMarioBrosEnv(target=(world, stage))
        super().__init__(_import("nes_py.wrappers").JoypadSpace(nes, buttons), nes, render_mode)
        self._x_last = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs, info = self._game.reset(seed=seed, options=options)
        self._x_last = int(info["x_pos"])
        return self._copy_frame(), self._info(info)

    def step(self, action: int):
        obs, _, terminated, truncated, info = self._game.step(int(action))
        return self._copy_frame(), self._v0_reward(info), terminated, truncated, self._info(info)

    def _v0_reward(self, info: dict[str, Any]) -> float:
        """The legacy reward: x delta (0 when |dx| > 5, a respawn jump), clock tick, death -25."""
        dx = int(info["x_pos"]) - self._x_last
        self._x_last = int(info["x_pos"])
        if abs(dx) > 5:
            dx = 0
        parts = info["reward_components"]
        reward = dx + parts["time"] + parts["death"]
        return float(np.clip(reward, *REWARD_RANGE))


def make_game(world: int, stage: int, buttons: list[list[str]], render_mode: str | None = None) -> gym.Env:
    """Build the raw game for one stage with a discrete joypad of ``buttons``.

    :param world: world number, 1..8
    :param stage: stage number, 1..4
    :param buttons: one list of button names per discrete action (see :func:`action_sets`)
    :param render_mode: ``None`` or ``"rgb_array"`` (the 240x256x3 screen)
    """
    cls = _NativeGame if backend_name() == "native" else _LegacyGame
    return cls(world, stage, buttons, render_mode)
