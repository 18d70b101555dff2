"""Levels of Super Mario Bros: names, validation, and a random-stage game.

A level is named ``"<world>-<stage>"`` with world 1..8 and stage 1..4 (``"1-1"`` .. ``"8-4"``).
Where a run or env takes a level, it also takes several, one drawn at each episode: a
comma-separated list (``"1-1,1-2"``), a world (``"world-1"``: its four stages) or ``"random"``
(all 32); :func:`level_names` reads each form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym

from sb3_mario.env.backend import make_game

WORLDS = range(1, 9)
STAGES = range(1, 5)
#: Every level of SMB1, in play order.
ALL_LEVELS: tuple[str, ...] = tuple(f"{w}-{s}" for w in WORLDS for s in STAGES)


#: What a level setting may name, for messages.
LEVEL_FORMS = "1-1 .. 8-4, a comma-separated list of them, world-1 .. world-8, or random"


def level_names(level: str | Sequence[str]) -> tuple[str, ...]:
    """The levels a level setting names: one level, a comma-separated list, ``"world-<n>"`` or
    ``"random"``, or a sequence of level names.

    :raises ValueError: naming the valid forms when ``level`` is none of them
    """
    if isinstance(level, str):
        if level == "random":
            return ALL_LEVELS
        if level.startswith("world-") and level[6:] in {str(w) for w in WORLDS}:
            return tuple(f"{level[6:]}-{s}" for s in STAGES)
        level = level.split(",")
    names = tuple(name.strip() for name in level)
    bad = [name for name in names if name not in ALL_LEVELS]
    if bad or not names:
        raise ValueError(f"unknown level {(bad or [''])[0]!r}: valid levels are {LEVEL_FORMS}")
    return names


def parse_level(level: str) -> tuple[int, int]:
    """Return ``(world, stage)`` for a level name such as ``"1-1"``.

    :raises ValueError: naming the valid levels when ``level`` is not one of them
    """
    if level not in ALL_LEVELS:
        raise ValueError(f"unknown level {level!r}: valid levels are '1-1' .. '8-4' (world 1-8, stage 1-4)")
    world, stage = level.split("-")
    return int(world), int(stage)


class RandomStageGame(gym.Env):
    """Play a stage drawn uniformly from ``levels`` at each reset, or the stages in turn.

    Replaces ``SuperMarioBrosRandomStages``, which gym-super-mario-bros 9.x removed. The draw uses
    the env's own ``np_random``, so ``reset(seed=...)`` fixes the sequence of stages. One game per
    stage is built on first use and kept.

    With ``turn_length``, the stages are played in the order given, each for ``turn_length`` resets in
    a row: an evaluation that plays each of its ``turn_length`` starts in turn (``RandomNoopStart``'s
    ``in_turn``) then plays every start of every stage once in ``turn_length * len(levels)`` episodes,
    where random draws leave some stages with fewer episodes than others. A reset given a seed starts
    again at the first stage, as ``RandomNoopStart`` starts again at 0 no-ops.

    :param levels: level names to draw from (see :data:`ALL_LEVELS`)
    :param buttons: one list of button names per discrete action
    :param render_mode: ``None`` or ``"rgb_array"``
    :param turn_length: resets per stage in turn; ``None`` (default) draws a stage at each reset
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(
        self,
        levels: Sequence[str],
        buttons: list[list[str]],
        render_mode: str | None = None,
        turn_length: int | None = None,
    ):
        if len(levels) == 0:
            raise ValueError("levels must name at least one level, actual value: []")
        if turn_length is not None and turn_length < 1:
            raise ValueError(f"turn_length must be >= 1 or None, actual value: {turn_length}")
        self._turn_length = turn_length
        self._resets = 0
        self._targets = [parse_level(level) for level in levels]
        self._buttons = buttons
        self.render_mode = render_mode
        self._games: dict[tuple[int, int], gym.Env] = {}
        self._game = self._get(self._targets[0])
        self.observation_space = self._game.observation_space
        self.action_space = self._game.action_space

    def _get(self, target: tuple[int, int]) -> gym.Env:
        if target not in self._games:
            self._games[target] = make_game(*target, self._buttons, self.render_mode)
        return self._games[target]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._resets = 0
        if self._turn_length is None:
            index = int(self.np_random.integers(len(self._targets)))
        else:
            index = self._resets // self._turn_length % len(self._targets)
        self._resets += 1
        self._game = self._get(self._targets[index])
        return self._game.reset(seed=seed, options=options)

    def step(self, action: Any):
        return self._game.step(action)

    def render(self):
        return self._game.render()

    def close(self) -> None:
        for game in self._games.values():
            game.close()
