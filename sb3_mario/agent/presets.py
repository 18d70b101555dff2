"""Named hyperparameter sets, in RL Zoo's hyperparams format.

Each preset is a plain dict of constructor kwargs of ``DQN``/``DoubleDQN`` plus RL Zoo's extra
keys: ``policy``, ``n_timesteps``, ``n_envs``, ``env_kwargs`` and ``callback``. The same dicts are
what ``zoo_configs/`` hands to rl_zoo3 (through :func:`sb3_mario.zoo.zoo_hyperparams`), and what
``sb3-mario train --preset`` uses (through :func:`sb3_mario.run.config.resolve`). No torch here.

Presets:

* ``article``: the tutorial's agent (its "DDQN", really DQN with a target network copied every
  5,000 steps). Train it with ``--algo dqn`` to reproduce the tutorial.
* ``article_no_target``: the tutorial's "DQN", which has no target network: a target copied
  before every update is the same thing.
* ``ddqn``: our Double DQN recipe for 1-1 (the default): the tutorial's network, gamma and learning rate,
  3-step returns, prioritized replay, overlapped updates and an average of weights; in training sticky actions,
  replayed starts, rewards / 10, jumps that always jump on the ground and +50 on the flag; each measured in
  docs/results.md.
"""

from __future__ import annotations

import copy
from typing import Any

from sb3_mario.errors import ConfigError

_ARTICLE: dict[str, Any] = {
    # the tutorial's DQNSolver (MarioCNN), by its dotted path: stock DQN has no alias for it
    "policy": "sb3_mario.agent.policies.MarioCnnPolicy",
    "n_timesteps": 1_000_000,  # the tutorial counts 10,000 episodes; about 1M steps on 1-1
    "n_envs": 1,  # the tutorial steps one env
    "buffer_size": 30_000,  # tutorial: max_memory_size=30000
    "batch_size": 32,  # tutorial: batch_size=32
    "gamma": 0.90,  # tutorial: gamma=0.90
    "learning_rate": 0.00025,  # tutorial: Adam(lr=0.00025)
    "learning_starts": 31,  # tutorial: first update once 32 transitions are stored
    "train_freq": 1,  # tutorial: experience_replay() after every env step
    "gradient_steps": 1,  # tutorial: one update per call
    "target_update_interval": 5_000,  # tutorial: copy_model() every 5000 steps
    "tau": 1.0,  # tutorial: hard copy
    "max_grad_norm": float("inf"),  # tutorial: no gradient clipping
    "exploration_initial_eps": 1.0,  # tutorial: exploration_max=1.0
    "exploration_final_eps": 0.02,  # tutorial: exploration_min=0.02
    # tutorial: exploration_rate *= 0.99 after each update (SB3 has only a linear schedule)
    "callback": [{"sb3_mario.agent.exploration.ExponentialEpsilon": {"decay": 0.99}}],
    # rewards are the env's own, clipped to [-15, 15] by the game; Huber loss and Adam are SB3's defaults
}

PRESETS: dict[str, dict[str, Any]] = {
    "article": _ARTICLE,
    "article_no_target": {**_ARTICLE, "target_update_interval": 1},  # tutorial's "DQN": no target net
    "ddqn": {
        "policy": "sb3_mario.agent.policies.MarioCnnPolicy",
        # the budget of `sb3-mario train`, which stops earlier at the first evaluation that meets the bar
        # (docs/runs.md); the recipe's greedy play first won every start between 450,000 and 650,000 env steps
        # (docs/results.md)
        "n_timesteps": 800_000,
        "n_envs": 2,  # one emulator per core on a 2-core machine
        "buffer_size": 100_000,  # SB3 Atari (rl-zoo dqn.yml)
        # one stored frame per transition: 0.7 GB for 100k instead of SB3's 5.6 GB (docs/benchmarks.md)
        "replay_buffer_class": "sb3_mario.agent.buffers.FrameDedupReplayBuffer",
        # 3-step returns, as Rainbow (Hessel et al. 2018): SB3's `n_steps`, given to our buffer (whose gamma is
        # the algorithm's); on 1-1 they took a run off its plateau (docs/results.md, History). Proportional
        # prioritized replay with Rainbow's alpha 0.5 and beta 0.5: part of the stack, the first ablation arm
        # whose greedy play won (docs/results.md, Ablations)
        "replay_buffer_kwargs": {"n_steps": 3, "priority_alpha": 0.5},
        "batch_size": 32,  # SB3 Atari and the tutorial
        "gamma": 0.90,  # tutorial: the x-progress reward is dense, a short horizon learns faster
        "learning_rate": 0.00025,  # tutorial (and the DQN Nature paper)
        "learning_starts": 10_000,  # SB3 Atari uses 100k; Mario's reward is dense
        "train_freq": 4,  # SB3 Atari: one update per 4 env steps...
        "gradient_steps": 2,  # ...per env: n_envs=2 collects 8 transitions per train() call
        "target_update_interval": 10_000,  # between SB3 Atari (1k) and the tutorial (5k updates)
        "exploration_fraction": 0.125,  # 100,000 env steps of the budget: SB3 Atari's 0.1 of 1M
        "exploration_initial_eps": 1.0,  # SB3 default
        "exploration_final_eps": 0.02,  # tutorial's floor
        "env_kwargs": {
            "no_progress_steps": 300,  # end episodes stuck at a pipe after ~20 s of play
            # start with 0..30 random no-op frames, as SB3's AtariWrapper trains: the emulator is deterministic,
            # and greedy play is evaluated from these 31 starts (docs/results.md)
            "noop_max": 30,
            # sticky actions in training (Machado et al. 2018), the perturbation of the bar's second test
            "repeat_action_probability": 0.25,
            # half the episodes start part-way along one of the farthest earlier ones (docs/environment.md)
            "replay_start_probability": 0.5,
            # rewards / 10: of the order of 1, where DQN's Huber loss and Adam's epsilon were set (Atari's clip)
            "reward_scale": 0.1,
            # a jump action on the ground always jumps, and +50 on the flag: without them, sticky actions left
            # Mario standing at a staircase or the flagpole (docs/results.md, docs/environment.md)
            "fresh_jump": True,
            "flag_bonus": 50,
        },
        # gradient steps on a worker thread while the envs step: 1.18x the env steps/s (docs/benchmarks.md), no
        # loss in learning at 200,000 env steps, 2 seeds (docs/results.md)
        "overlap_updates": True,
        # an average of the online weights (SR-SPR and BBF's 0.005), played by each evaluation beside the online
        # network and shipped by `sb3-mario export --average`: steadier greedy play (docs/results.md)
        "average_tau": 0.005,
        # no learning-rate schedule: a rate falling to 0 over the second half of the budget
        # (sb3_mario.agent.schedules.LearningRateDecay) won no more greedy starts and no more of the bar's tests
        # over 2 seeds to 800,000 env steps (docs/results.md)
    },
}

#: The preset ``sb3-mario train`` uses when none is named.
DEFAULT_PRESET = "ddqn"


def get_preset(name: str) -> dict[str, Any]:
    """Return a deep copy of a preset.

    :raises ConfigError: naming the valid presets when ``name`` is unknown
    """
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}: valid presets are {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
