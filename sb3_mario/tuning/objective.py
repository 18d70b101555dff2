"""The objective of a tuning trial: train the run config with sampled values, evaluate, report, prune."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import optuna

from sb3_mario.run.callbacks import EvalCallback
from sb3_mario.run.config import RunConfig, build_callbacks, with_overrides
from sb3_mario.run.evaluation import Episode, make_eval_env
from sb3_mario.run.seeding import seed_for
from sb3_mario.tuning.settings import TuneSettings
from sb3_mario.tuning.space import convert_params, sample_params

#: No level of Super Mario Bros is wider than this many pixels: x_pos / X_SCALE < 1.
X_SCALE = 10_000


def trial_score(wins: list[bool], x_positions: list[int]) -> float:
    """Win rate first, progress second: ``win_rate + mean(x_pos) / X_SCALE / (n + 1)``.

    Early trials rarely win, so the score must also reward getting further. The progress term is
    below ``1 / (n + 1)``, less than one win in ``n`` episodes, so more wins always score higher and
    equal wins are ranked by mean final ``x_pos``. TPE and the pruners only compare scores.
    """
    n = len(wins)
    return float(np.mean(wins) + np.mean(x_positions) / X_SCALE / (n + 1))


class TrialEvalCallback(EvalCallback):
    """:class:`~sb3_mario.run.callbacks.EvalCallback` that reports :func:`trial_score` to the trial
    after each evaluation and stops training when the pruner says so (after rl_zoo3's).

    :param trial: the Optuna trial
    """

    def __init__(self, trial: optuna.Trial, eval_env: gym.Env, n_episodes: int, eval_freq: int, seed: int | None):
        super().__init__(eval_env, n_episodes, eval_freq, log_dir=None, seed=seed)
        self.trial = trial
        self.last_score = -math.inf
        self.pruned = False
        self._reports = 0

    def _on_evaluation(self, episodes: list[Episode], summary: dict[str, Any]) -> bool:
        self.last_score = trial_score([e.win for e in episodes], [e.x_pos for e in episodes])
        self.logger.record("eval/trial_score", self.last_score)
        self.trial.report(self.last_score, self._reports)
        self._reports += 1
        self.pruned = self.trial.should_prune()
        return not self.pruned


def trial_config(base: RunConfig, tune: TuneSettings, params: dict[str, Any]) -> RunConfig:
    """The run config of one trial: ``base`` with the sampled values and the trial's budget."""
    return with_overrides(base, {**convert_params(params), "n_timesteps": tune.trial_timesteps})


def objective(trial: optuna.Trial, base: RunConfig, tune: TuneSettings) -> float:
    """Train one trial's model (in one process) and return its last evaluation's score.

    :raises optuna.TrialPruned: when the pruner stops the trial
    """
    from sb3_mario.run.training import build_model

    config = trial_config(base, tune, sample_params(trial, full=tune.full_space))
    model = build_model(config, vec_env="dummy")
    model.verbose = 0
    eval_env = make_eval_env(config)
    eval_cb = TrialEvalCallback(
        trial,
        eval_env,
        config.settings.eval_episodes,
        max(tune.trial_timesteps // tune.n_evaluations, 1),
        seed_for(config.settings.seed, "eval"),
    )
    try:
        model.learn(config.n_timesteps, callback=[eval_cb, *build_callbacks(config.split().callback)])
    finally:
        eval_env.close()
        model.get_env().close()
    if eval_cb.pruned:
        raise optuna.TrialPruned()
    if math.isnan(eval_cb.last_score) or not all(
        np.isfinite(p.detach().sum().item()) for p in model.policy.parameters()
    ):
        raise ValueError("the network diverged (NaN weights)")
    return eval_cb.last_score
