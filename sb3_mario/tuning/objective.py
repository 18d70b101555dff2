"""The objective of a tuning trial: train on a budget, evaluate at intervals, report, prune."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from stable_baselines3.common.callbacks import BaseCallback

from sb3_mario.config import build_callbacks, get_algo, split_hyperparams
from sb3_mario.env import make_mario_env
from sb3_mario.evaluation import Player, play_episode
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


@dataclass
class TuneSettings:
    """What every trial of a study shares.

    :param algo: ``ddqn`` or ``dqn``
    :param level: level to tune on
    :param base_preset: hyperparams the sampled values override (``ddqn`` by default)
    :param trial_timesteps: env steps each trial trains
    :param n_evaluations: evaluations per trial, each reported to Optuna for pruning
    :param eval_episodes: episodes per evaluation
    :param eval_noop_max: random no-op frames at the start of evaluation episodes
    :param seed: seed of each trial's model and envs
    :param device: torch device
    :param full_space: also search target update interval and train frequency
    :param overrides: fixed hyperparams applied after the preset (e.g. a small buffer for tests)
    """

    algo: str = "ddqn"
    level: str = "1-1"
    base_preset: str = "ddqn"
    trial_timesteps: int = 100_000
    n_evaluations: int = 4
    eval_episodes: int = 5
    eval_noop_max: int = 30
    seed: int = 0
    device: str = "auto"
    full_space: bool = False
    overrides: dict[str, Any] | None = None


class TrialEvalCallback(BaseCallback):
    """Evaluate every ``eval_freq`` env steps, report :func:`trial_score` to the trial, prune.

    :param trial: the Optuna trial
    :param eval_env: a single preprocessed env (random no-op starts recommended)
    :param eval_freq: env steps between evaluations
    :param n_episodes: episodes per evaluation
    """

    def __init__(self, trial: optuna.Trial, eval_env: Any, eval_freq: int, n_episodes: int):
        super().__init__()
        self.trial = trial
        self.eval_env = eval_env
        self.eval_freq = eval_freq
        self.n_episodes = n_episodes
        self.last_score = -math.inf
        self.pruned = False
        self._next = eval_freq
        self._step = 0

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next:
            return True
        self._next += self.eval_freq
        player = Player(self.model)
        episodes = [play_episode(self.eval_env, player, seed=i) for i in range(self.n_episodes)]
        self.last_score = trial_score([e.win for e in episodes], [e.x_pos for e in episodes])
        self.logger.record("eval/trial_score", self.last_score)
        self.trial.report(self.last_score, self._step)
        self._step += 1
        if self.trial.should_prune():
            self.pruned = True
            return False
        return True


def objective(trial: optuna.Trial, settings: TuneSettings) -> float:
    """Train one trial's model and return its last evaluation score.

    :raises optuna.TrialPruned: when the pruner stops the trial
    """
    from sb3_mario.presets import get_preset
    from sb3_mario.training import build_model

    algo = get_algo(settings.algo)
    hyperparams = {**get_preset(settings.base_preset), **(settings.overrides or {})}
    hyperparams.update(convert_params(sample_params(trial, full=settings.full_space)))
    hp = split_hyperparams(hyperparams, algo)
    model = build_model(algo, hp, settings.level, settings.seed, settings.device, vec_env="dummy")
    model.verbose = 0
    eval_env = make_mario_env(settings.level, **{**hp.env_kwargs, "noop_max": settings.eval_noop_max})
    eval_cb = TrialEvalCallback(
        trial, eval_env, max(settings.trial_timesteps // settings.n_evaluations, 1), settings.eval_episodes
    )
    try:
        model.learn(settings.trial_timesteps, callback=[eval_cb, *build_callbacks(hp.callback)])
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
