"""The search space for DQN/DoubleDQN on Mario, in two steps (as RL Zoo does).

:func:`sample_params` draws in a search-friendly space (``one_minus_gamma`` on a log scale);
:func:`convert_params` turns those values into constructor kwargs. The converter is pure and
touches no key it does not own, so the preset's ``policy_kwargs`` (the tutorial's network) and
everything else stay as they are.
"""

from __future__ import annotations

from typing import Any

import optuna

#: Ranges of the search, with where each comes from.
SPACE = {
    # gamma 0.7 .. 0.997: the tutorial's 0.90 sits in the middle of the log range; SB3 Atari uses 0.99
    "one_minus_gamma": (0.003, 0.3),
    # around the tutorial's (and the DQN Nature paper's) 2.5e-4; SB3 Atari uses 1e-4
    "learning_rate": (1e-5, 1e-3),
    # share of training over which epsilon falls linearly (SB3 Atari: 0.1)
    "exploration_fraction": (0.01, 0.5),
    # epsilon floor (tutorial 0.02, SB3 Atari 0.01)
    "exploration_final_eps": (0.0, 0.1),
}
TARGET_UPDATE_INTERVALS = (1_000, 2_500, 5_000, 10_000)  # SB3 Atari 1k .. tutorial 5k and beyond
TRAIN_FREQS = (1, 4, 8)  # tutorial 1, SB3 Atari 4


def sample_params(trial: optuna.Trial, full: bool = False) -> dict[str, Any]:
    """Draw one point of the search space (names as Optuna stores them).

    :param trial: the Optuna trial (``optuna.trial.FixedTrial`` for fixed values)
    :param full: also search target update interval and train frequency
    """
    params: dict[str, Any] = {
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", *SPACE["one_minus_gamma"], log=True),
        "learning_rate": trial.suggest_float("learning_rate", *SPACE["learning_rate"], log=True),
        "exploration_fraction": trial.suggest_float("exploration_fraction", *SPACE["exploration_fraction"]),
        "exploration_final_eps": trial.suggest_float("exploration_final_eps", *SPACE["exploration_final_eps"]),
    }
    if full:
        params["target_update_interval"] = trial.suggest_categorical("target_update_interval", TARGET_UPDATE_INTERVALS)
        params["train_freq"] = trial.suggest_categorical("train_freq", TRAIN_FREQS)
    return params


def convert_params(params: dict[str, Any]) -> dict[str, Any]:
    """Turn sampled values into DQN/DoubleDQN constructor kwargs (``one_minus_gamma`` -> ``gamma``)."""
    kwargs = dict(params)
    if "one_minus_gamma" in kwargs:
        kwargs["gamma"] = 1.0 - kwargs.pop("one_minus_gamma")
    return kwargs


def zoo_sampler(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """:func:`sample_params` + :func:`convert_params` with rl_zoo3's sampler signature."""
    return convert_params(sample_params(trial))
