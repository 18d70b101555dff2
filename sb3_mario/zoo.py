"""Run rl_zoo3's own scripts with DoubleDQN and our tuning space registered.

rl_zoo3 fixes its ``--algo`` choices from ``rl_zoo3.utils.ALGOS`` before ``--gym-packages`` is
imported, so ``--algo double_dqn`` cannot come from a gym package. ``sb3-mario zoo SCRIPT ARGS``
adds ``double_dqn`` (and the alias ``ddqn``) to ALGOS and to rl_zoo3's sampler and converter
tables, then runs ``rl_zoo3.SCRIPT`` unchanged with ARGS, as ``python -m rl_zoo3.SCRIPT`` would.
"""

from __future__ import annotations

import copy
import runpy
import sys
from collections.abc import Sequence
from typing import Any

from sb3_mario.agent.double_dqn import DoubleDQN
from sb3_mario.env import ALL_LEVELS, RANDOM_STAGES_ID, env_id
from sb3_mario.errors import ConfigError
from sb3_mario.run.config import resolve
from sb3_mario.tuning.space import convert_params, zoo_sampler

#: rl_zoo3 scripts that the entry point runs.
SCRIPTS = ("train", "enjoy", "record_video")
ZOO_NAMES = ("double_dqn", "ddqn")


def register() -> None:
    """Add DoubleDQN and its sampler/converter to rl_zoo3's tables, and the package's name to the namespace
    where rl_zoo3 evaluates a ``replay_buffer_class`` string (idempotent)."""
    try:
        from rl_zoo3 import exp_manager, hyperparams_opt, utils
    except ImportError:
        raise ConfigError("rl_zoo3 is not installed: pip install 'sb3-mario[zoo]'") from None
    for name in ZOO_NAMES:
        utils.ALGOS[name] = DoubleDQN
        hyperparams_opt.HYPERPARAMS_SAMPLER[name] = zoo_sampler
        hyperparams_opt.HYPERPARAMS_CONVERTER[name] = convert_params
    exp_manager.sb3_mario = sys.modules["sb3_mario"]  # "sb3_mario.agent.buffers.FrameDedupReplayBuffer" evaluates


def run(script: str, argv: Sequence[str]) -> int:
    """Run ``rl_zoo3.<script>`` as ``__main__`` with ``argv`` after :func:`register`."""
    if script not in SCRIPTS:
        raise ConfigError(f"unknown rl_zoo3 script {script!r}: valid scripts are {', '.join(SCRIPTS)}")
    register()
    saved = sys.argv
    sys.argv = [f"rl_zoo3.{script}", *argv]
    try:
        runpy.run_module(f"rl_zoo3.{script}", run_name="__main__", alter_sys=True)
    finally:
        sys.argv = saved
    return 0


def zoo_hyperparams(preset: str) -> dict[str, dict[str, Any]]:
    """A preset, through the one merge (:func:`~sb3_mario.run.config.resolve`), as an RL Zoo
    hyperparams table: one entry per env id.

    The entry is the preset's own. rl_zoo3 2.9 evaluates a ``replay_buffer_class`` string in its own
    module, where :func:`register` (``sb3-mario zoo``) puts the package's name, so a dotted path to
    ``FrameDedupReplayBuffer`` is the class; ``DoubleDQN`` gives that buffer its ``gamma`` for n-step
    returns (:func:`~sb3_mario.agent.buffers.with_algorithm_gamma`). rl_zoo3's own scripts import the
    policy's dotted path.
    """
    entry = resolve(preset=preset).hyperparams
    ids = [*(env_id(level) for level in ALL_LEVELS), RANDOM_STAGES_ID]
    return {id_: copy.deepcopy(entry) for id_ in ids}
