"""Gymnasium ids of the preprocessed envs.

Scheme: ``sb3_mario/SuperMarioBros-<world>-<stage>-v0`` for one level (``1-1`` .. ``8-4``),
``sb3_mario/SuperMarioBros-world-<world>-v0`` for a random stage of one world each episode, and
``sb3_mario/SuperMarioBrosRandomStages-v0`` for a random stage of all 32. ``v0`` is the
preprocessing of :func:`sb3_mario.env.factory.make_mario_env` with its defaults; any of its keyword
arguments can be passed to ``gymnasium.make``.
"""

from __future__ import annotations

import gymnasium as gym

from sb3_mario.env.levels import ALL_LEVELS, WORLDS

NAMESPACE = "sb3_mario"
ENTRY_POINT = "sb3_mario.env.factory:make_mario_env"
RANDOM_STAGES_ID = f"{NAMESPACE}/SuperMarioBrosRandomStages-v0"


def env_id(level: str) -> str:
    """Return our gymnasium id for a level name such as ``"1-1"``."""
    return f"{NAMESPACE}/SuperMarioBros-{level}-v0"


def register_envs() -> None:
    """Register every id of the scheme; a no-op for ids already registered."""
    ids = {env_id(level): level for level in (*ALL_LEVELS, *(f"world-{w}" for w in WORLDS))}
    ids[RANDOM_STAGES_ID] = "random"
    for id_, level in ids.items():
        if id_ not in gym.registry:
            gym.register(id=id_, entry_point=ENTRY_POINT, kwargs={"level": level})
