"""The env layer: Super Mario Bros with the tutorial's preprocessing, as gymnasium envs. Imports no torch.

``backend`` adapts both generations of the game package, ``levels`` names the 32 levels,
``wrappers`` holds the Mario-specific wrappers, ``factory`` is the one place envs are built and
``registration`` registers the gymnasium ids.
"""

from sb3_mario.env.factory import ACTION_SETS, make_mario_env, make_mario_vec_env
from sb3_mario.env.levels import ALL_LEVELS, parse_level
from sb3_mario.env.registration import RANDOM_STAGES_ID, env_id, register_envs

__all__ = [
    "ACTION_SETS",
    "ALL_LEVELS",
    "RANDOM_STAGES_ID",
    "env_id",
    "make_mario_env",
    "make_mario_vec_env",
    "parse_level",
    "register_envs",
]
