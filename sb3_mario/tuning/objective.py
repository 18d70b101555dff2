"""The objective of a tuning trial: train the run config with sampled values, evaluate, report, prune."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import optuna

from sb3_mario.run.callbacks import CheckpointCallback, EvalCallback, StopTraining
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


class TrialInterrupted(BaseException):
    """SIGINT or SIGTERM stopped a trial: its model and replay buffer are checkpointed (with
    ``trial_checkpoints``) and it is left running, neither failed nor pruned, for
    :func:`~sb3_mario.tuning.study.run_study` to queue it again. A ``BaseException``, as
    ``KeyboardInterrupt``, that Optuna passes on without recording the trial.

    :param number: the trial's number
    :param signum: the signal received
    :param steps: env steps trained when it stopped
    """

    def __init__(self, number: int, signum: int, steps: int):
        super().__init__(f"trial {number} stopped by signal {signum} at {steps} steps")
        self.number, self.signum, self.steps = number, signum, steps


class TrialEvalCallback(EvalCallback):
    """:class:`~sb3_mario.run.callbacks.EvalCallback` that reports :func:`trial_score` to the trial
    after each evaluation and stops training when the pruner says so (after rl_zoo3's).

    :param trial: the Optuna trial
    """

    def __init__(
        self,
        trial: optuna.Trial,
        eval_env: gym.Env,
        n_episodes: int,
        eval_freq: int,
        seed: int | None,
        reported: list[float] | None = None,
    ):
        super().__init__(eval_env, n_episodes, eval_freq, log_dir=None, seed=seed)
        self.trial = trial
        self.last_score = reported[-1] if reported else -math.inf
        self.pruned = False
        self._reports = 0
        for score in reported or []:  # an earlier attempt's reports, for the pruner
            self.trial.report(score, self._reports)
            self._reports += 1

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


def trial_folder(trial: optuna.Trial, tune: TuneSettings) -> tuple[Path | None, list[float]]:
    """Where a trial keeps its checkpoint, and the scores its earlier attempts reported.

    A trial run again after a stop (``RetryHeartbeatStaleTrialCallback``'s copy of it) shares the
    folder of the first attempt, ``OUTPUT_DIR/trials/<first attempt's number>``, and takes the
    reports of the last attempt. ``(None, [])`` without ``trial_checkpoints``.
    """
    if not tune.trial_checkpoints:
        return None, []
    trials = trial.study.get_trials(deepcopy=False)
    attrs = trials[trial.number].system_attrs
    first = attrs.get("failed_trial", trial.number)
    history = attrs.get("retry_history", [])
    reported = trials[history[-1]].intermediate_values if history else {}
    return Path(tune.output_dir) / "trials" / str(first), [reported[k] for k in sorted(reported)]


def objective(trial: optuna.Trial, base: RunConfig, tune: TuneSettings) -> float:
    """Train one trial's model (in one process) and return its last evaluation's score.

    With ``trial_checkpoints`` the model and its replay buffer are saved after each evaluation and
    when SIGINT or SIGTERM stops training, and a trial run again after a stop goes on from there, its
    earlier evaluations reported again (those up to the checkpoint), as if it had not stopped.

    :raises optuna.TrialPruned: when the pruner stops the trial
    :raises TrialInterrupted: when a signal stops it
    """
    from sb3_mario.run.training import CHECKPOINTS, build_model, load_checkpoint

    config = trial_config(base, tune, sample_params(trial, full=tune.full_space))
    eval_freq = max(tune.trial_timesteps // tune.n_evaluations, 1)
    folder, reported = trial_folder(trial, tune)
    if folder is not None and (folder / CHECKPOINTS / "model.zip").is_file():
        model = load_checkpoint(config, folder, vec_env="dummy")
        reported = reported[: model.num_timesteps // eval_freq]
        print(f"trial {trial.number} goes on from the checkpoint of trial {folder.name} at {model.num_timesteps} steps")
    else:
        model, reported = build_model(config, vec_env="dummy"), []
    model.verbose = 0
    eval_env = make_eval_env(config)
    eval_cb = TrialEvalCallback(
        trial, eval_env, config.settings.eval_episodes, eval_freq, seed_for(config.settings.seed, "eval"), reported
    )
    stop = StopTraining()
    callbacks = [stop, eval_cb, *build_callbacks(config.split().callback)]
    checkpoint = None
    if folder is not None:  # after the evaluation: a checkpoint holds the evaluations before it
        checkpoint = CheckpointCallback(folder / CHECKPOINTS, eval_freq, True, config.to_dict())
        callbacks.insert(2, checkpoint)
    with stop:  # a signal that arrives while the checkpoint is written waits for it
        try:
            model.learn(config.n_timesteps - model.num_timesteps, callback=callbacks, reset_num_timesteps=False)
        finally:
            eval_env.close()
            model.get_env().close()
        if stop.received is not None:
            if not eval_cb.pruned:
                if checkpoint is not None:
                    checkpoint.save()
                raise TrialInterrupted(trial.number, stop.received, model.num_timesteps)
            trial.study.stop()  # the trial ends pruned, as it was about to; the worker takes no other
    if folder is not None:  # the trial is over: its checkpoint is no longer needed
        shutil.rmtree(folder, ignore_errors=True)
    if eval_cb.pruned:
        raise optuna.TrialPruned()
    if math.isnan(eval_cb.last_score) or not all(
        np.isfinite(p.detach().sum().item()) for p in model.policy.parameters()
    ):
        raise ValueError("the network diverged (NaN weights)")
    return eval_cb.last_score
