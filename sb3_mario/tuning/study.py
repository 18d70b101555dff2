"""Persistent, shareable Optuna studies and their outputs (best config, summary, plots)."""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import optuna
import yaml

from sb3_mario.env.registration import env_id
from sb3_mario.errors import ConfigError
from sb3_mario.run.config import RunConfig, with_overrides
from sb3_mario.tuning.objective import TrialInterrupted, objective
from sb3_mario.tuning.settings import TuneSettings
from sb3_mario.tuning.space import convert_params


def make_storage(url: str, heartbeat_interval: int = 60, grace_period: int = 120) -> optuna.storages.BaseStorage:
    """An Optuna storage for a SQLAlchemy URL or a journal file (``*.log`` / ``*.journal``).

    RDB storages get a heartbeat: a trial whose worker stops beating for ``grace_period`` seconds
    (killed, machine lost) is failed and queued again with the same parameters, as often as that
    happens (``RetryHeartbeatStaleTrialCallback``); with ``trial_checkpoints`` the retry goes on from
    the trial's last checkpoint (:func:`~sb3_mario.tuning.objective.objective`). A trial that raises
    is failed and not retried.
    """
    if url.endswith((".log", ".journal")):
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(url))
    if "://" not in url:
        raise ConfigError(
            f"malformed storage {url!r}: give a SQLAlchemy URL (sqlite:///study.db, postgresql://user@host/db) "
            "or a journal file ending in .log"
        )
    import sqlalchemy.exc

    for attempt in range(5):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna 5
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url,
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(),
                )
        except sqlalchemy.exc.IntegrityError:
            # workers started together on an empty database race to create the tables: the
            # loser retries and finds them
            time.sleep(0.5 * (attempt + 1))
        except Exception as e:  # SQLAlchemy's errors for bad URLs, missing drivers, unreachable servers
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ConfigError(f"cannot open storage {url!r}: {first}") from None
    raise ConfigError(f"cannot open storage {url!r}: its tables could not be created")


def make_sampler(name: str, seed: int | None) -> optuna.samplers.BaseSampler:
    """TPE (RL Zoo's default, 5 random startup trials) or random search."""
    if name == "tpe":
        return optuna.samplers.TPESampler(n_startup_trials=5, seed=seed, multivariate=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ConfigError(f"unknown sampler {name!r}: valid samplers are tpe, random")


def make_pruner(name: str, n_evaluations: int) -> optuna.pruners.BasePruner:
    """Median (after 1 complete trial, never on a trial's first evaluation) or successive halving."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=min(1, n_evaluations - 1))
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"unknown pruner {name!r}: valid pruners are median, halving, none")


#: Settings that change what a trial trains or how it is scored (the others: where and how fast).
TRIAL_SETTINGS = ("algo", "level", "seed", "eval_episodes", "eval_noop_max")


def trial_protocol(base: RunConfig) -> dict[str, Any]:
    """What every trial of a study shares: the hyperparams and :data:`TRIAL_SETTINGS`."""
    doc = base.to_dict()
    return {"settings": {k: doc["settings"][k] for k in TRIAL_SETTINGS}, "hyperparams": doc["hyperparams"]}


class TrialProgress:
    """An Optuna callback that shows each finished trial: its state and score, the best so far and its
    trial, the counts of complete, pruned and failed trials, and the time left at the pace so far.

    :param total: trials this worker will run
    :param enabled: ``False`` shows nothing
    """

    def __init__(self, total: int, enabled: bool = True):
        from sb3_mario.run.progress import Progress

        self.progress = Progress(total, "trial", enabled)

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        states = [t.state for t in study.trials]
        counts = ", ".join(
            f"{states.count(state)} {state.name.lower()}"
            for state in (
                optuna.trial.TrialState.COMPLETE,
                optuna.trial.TrialState.PRUNED,
                optuna.trial.TrialState.FAIL,
            )
        )
        score = "" if trial.value is None else f" {trial.value:.4f}"
        try:
            best = f"best {study.best_value:.4f} (trial {study.best_trial.number})"
        except ValueError:  # no complete trial yet
            best = "no complete trial yet"
        self.progress.update(f"trial {trial.number} {trial.state.name.lower()}{score}; {best}; study: {counts}")


def run_study(base: RunConfig, tune: TuneSettings, progress_bar: bool = False) -> optuna.Study:
    """Create or resume the study ``tune.study_name`` in ``tune.storage`` and run ``tune.n_trials`` here.

    Every trial trains ``base`` with the sampled values (:func:`~sb3_mario.tuning.objective.objective`).
    The study keeps ``base`` and ``tune``'s search settings; resuming it with another base config is
    refused, so that its trials stay comparable. Several workers given the same name and storage
    share the study. With ``max_trials`` the study stops once it holds that many complete or pruned
    trials, whichever worker ran them, so one command resumes a study until it is done. A seeded
    sampler is seeded with ``sampler_seed`` plus the number of trials already in the study, so a
    resumed or second worker does not draw the points of the first. A trial that raises or diverges
    is recorded as failed and the study goes on. SIGINT or SIGTERM stops the worker: its trial is
    checkpointed and queued again (:func:`queue_again`), to go on from there when the study resumes.
    With ``progress_bar``, each finished trial is shown (:class:`TrialProgress`).
    """
    if tune.n_trials < 0:
        raise ConfigError(f"n-trials must be >= 0, actual value: {tune.n_trials}")
    study = optuna.create_study(
        study_name=tune.study_name,
        storage=make_storage(tune.storage, tune.heartbeat_interval, tune.grace_period),
        sampler=make_sampler(tune.sampler, None),
        pruner=make_pruner(tune.pruner, tune.n_evaluations),
        direction="maximize",
        load_if_exists=True,
    )
    started_with = study.user_attrs.get("trial_config")
    if started_with is not None and started_with != trial_protocol(base):
        raise ConfigError(
            f"study {tune.study_name!r} was started with another run config: give it the same preset, config "
            "file and overrides, or start a new study"
        )
    study.set_user_attr("trial_config", trial_protocol(base))
    study.set_user_attr("search", {k: asdict(tune)[k] for k in ("trial_timesteps", "n_evaluations", "full_space")})
    if tune.sampler_seed is not None:
        study.sampler = make_sampler(tune.sampler, tune.sampler_seed + len(study.trials))
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    n_trials = tune.n_trials
    callbacks = []
    if tune.max_trials is not None:
        n_trials = min(n_trials, max(tune.max_trials - len(study.get_trials(states=finished)), 0))
        callbacks.append(optuna.study.MaxTrialsCallback(tune.max_trials, states=finished))
    progress = TrialProgress(n_trials, enabled=progress_bar)
    callbacks.append(progress)
    try:
        if n_trials > 0:
            study.optimize(
                functools.partial(objective, base=base, tune=tune),
                n_trials=n_trials,
                timeout=tune.timeout,
                catch=(Exception,),
                callbacks=callbacks,
            )
    except TrialInterrupted as stop:
        retry = queue_again(study, stop.number)
        print(f"{stop}: queued again as trial {retry}, which goes on from there when the study resumes")
    finally:
        progress.progress.close()
    return study


def queue_again(study: optuna.Study, number: int) -> int:
    """Fail the running trial ``number`` and queue a copy of it, as a heartbeat does with a stale
    trial (``RetryHeartbeatStaleTrialCallback``): the copy finds the trial's checkpoint through
    :func:`~sb3_mario.tuning.objective.trial_folder`. Returns the copy's number."""
    study.tell(number, state=optuna.trial.TrialState.FAIL)
    optuna.storages.RetryHeartbeatStaleTrialCallback()(study, study.trials[number])
    return study.trials[-1].number


def best_config(study: optuna.Study, base: RunConfig, tune: TuneSettings) -> dict[str, Any]:
    """The best trial as a hyperparams file (zoo_configs' format) for the base config's level.

    SB3's ``exploration_fraction`` is a share of the run's budget: the best trial's is rescaled from
    the trial's budget to the base config's ``n_timesteps``, so that epsilon falls over the same
    number of env steps as in the trial.
    """
    params = convert_params(study.best_trial.params)
    if "exploration_fraction" in params:
        params["exploration_fraction"] *= tune.trial_timesteps / base.n_timesteps
    config = with_overrides(base, params)
    return {env_id(base.settings.level): config.to_dict()["hyperparams"]}


def summary_table(study: optuna.Study) -> str:
    """One line per trial: number, state, score, parameters."""
    lines = [f"{'trial':>5}  {'state':<8} {'score':>9}  params"]
    for t in study.trials:
        value = "" if t.value is None else f"{t.value:.5f}"
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.params.items())
        lines.append(f"{t.number:>5}  {t.state.name:<8} {value:>9}  {params}")
    return "\n".join(lines)


def write_outputs(study: optuna.Study, base: RunConfig, tune: TuneSettings) -> list[Path]:
    """Write the summary, the best config (YAML) and the plots to ``tune.output_dir``.

    The plots: every trial's score at each of its evaluations, pruned trials included
    (``intermediate_values.png``: in a pruned study most trials end there), and, once trials are
    complete, the best score against trial number and, from 2 complete trials, the parameters'
    importances for the score (Optuna's, over complete trials only).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    out = Path(tune.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    (out / "summary.txt").write_text(summary_table(study) + "\n")
    written.append(out / "summary.txt")
    plots = {}
    if any(t.intermediate_values for t in study.trials):
        plots["intermediate_values.png"] = ovm.plot_intermediate_values
    if complete:
        config = out / "best_config.yml"
        config.write_text(yaml.safe_dump(best_config(study, base, tune), sort_keys=False))
        written.append(config)
        plots["optimization_history.png"] = ovm.plot_optimization_history
    if len(complete) >= 2:
        plots["param_importances.png"] = ovm.plot_param_importances
    for name, plot in plots.items():
        with warnings.catch_warnings():  # optuna's matplotlib plots are "experimental"
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            ax = plot(study)
        ax.figure.savefig(out / name, dpi=100, bbox_inches="tight")
        plt.close(ax.figure)
        written.append(out / name)
    return written
