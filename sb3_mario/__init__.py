"""sb3-mario: Super Mario Bros (NES) as a Stable-Baselines3 environment, and the agent that beats it.

Layers, each importing only the ones before it:

* :mod:`sb3_mario.env`: the game with the tutorial's preprocessing, gymnasium ids (no torch);
* :mod:`sb3_mario.agent`: the tutorial's network, ``DoubleDQN``, the replay buffer, presets;
* :mod:`sb3_mario.run`: the run config, training, evaluation, recording, export, plots;
* :mod:`sb3_mario.tuning`: Optuna studies over the run config; :mod:`sb3_mario.cli`, :mod:`sb3_mario.zoo`.

Importing the package registers the gymnasium ids (``sb3_mario/SuperMarioBros-1-1-v0`` ...). The
env layer needs no torch; the agent names (``DoubleDQN``, ``MarioCNN``, ...) import it on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from sb3_mario.env.backend import quiet_legacy_import

quiet_legacy_import()

from sb3_mario import _moved, env
from sb3_mario.env import *  # noqa: F403  (the env layer's public names)
from sb3_mario.env import register_envs
from sb3_mario.errors import ConfigError

__version__ = "0.1.0"

# Public names whose modules import torch, loaded on first access (PEP 562).
_LAZY = {
    "DoubleDQN": "sb3_mario.agent.double_dqn",
    "double_q_target": "sb3_mario.agent.double_dqn",
    "MarioCNN": "sb3_mario.agent.policies",
    "MarioCnnPolicy": "sb3_mario.agent.policies",
    "MARIO_POLICY_KWARGS": "sb3_mario.agent.policies",
    "FrameDedupReplayBuffer": "sb3_mario.agent.buffers",
    "PRESETS": "sb3_mario.agent.presets",
    "get_preset": "sb3_mario.agent.presets",
}

__all__ = [*env.__all__, "ConfigError", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sb3_mario' has no attribute {name!r}")


_moved.install()
register_envs()
