"""sb3-mario: Super Mario Bros (NES) as a Stable-Baselines3 environment, and the agent that beats it.

Importing the package registers the gymnasium ids (``sb3_mario/SuperMarioBros-1-1-v0`` ...).
The env layer needs no torch; the agent names (``DoubleDQN``, ``MarioCNN``, ...) import it on
first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from sb3_mario.backend import quiet_legacy_import

quiet_legacy_import()

from sb3_mario.env import ACTION_SETS, make_mario_env, make_mario_vec_env
from sb3_mario.levels import ALL_LEVELS, parse_level
from sb3_mario.registration import RANDOM_STAGES_ID, env_id, register_envs

__version__ = "0.1.0"

# Public names whose modules import torch, loaded on first access (PEP 562).
_LAZY = {
    "DoubleDQN": "sb3_mario.double_dqn",
    "double_q_target": "sb3_mario.double_dqn",
    "MarioCNN": "sb3_mario.policies",
    "MARIO_POLICY_KWARGS": "sb3_mario.policies",
    "PRESETS": "sb3_mario.presets",
    "get_preset": "sb3_mario.presets",
}

__all__ = [
    "ACTION_SETS",
    "ALL_LEVELS",
    "RANDOM_STAGES_ID",
    "env_id",
    "make_mario_env",
    "make_mario_vec_env",
    "parse_level",
    "register_envs",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sb3_mario' has no attribute {name!r}")


register_envs()
