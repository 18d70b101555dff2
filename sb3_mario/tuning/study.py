"""Persistent, shareable Optuna studies and their outputs (best config, summary, plots)."""

from __future__ import annotations

import functools
import time
import warnings
from pathlib import Path
from typing import Any

import optuna
import yaml

from sb3_mario.config import ConfigError, to_yaml_value
from sb3_mario.registration import env_id
from sb3_mario.tuning.objective import TuneSettings, objective
from sb3_mario.tuning.space import convert_params

#: Default storage: an SQLite file in the working folder.
DEFAULT_STORAGE = "sqlite:///sb3-mario-optuna.db"
SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "halving", "none")


def make_storage(url: str, heartbeat_interval: int = 60, grace_period: int = 120) -> optuna.storages.BaseStorage:
    """An Optuna storage for a SQLAlchemy URL or a journal file (``*.log`` / ``*.journal``).

    RDB storages get a heartbeat: a trial whose worker stops beating for ``grace_period`` seconds
    (killed, machine lost) is failed and queued again once (``RetryHeartbeatStaleTrialCallback``).
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
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1),
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
    raise ConfigError(f"unknown sampler {name!r}: valid samplers are {', '.join(SAMPLERS)}")


def make_pruner(name: str, n_evaluations: int) -> optuna.pruners.BasePruner:
    """Median (after 1 complete trial, never on a trial's first evaluation) or successive halving."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=min(1, n_evaluations - 1))
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"unknown pruner {name!r}: valid pruners are {', '.join(PRUNERS)}")


def run_study(
    settings: TuneSettings,
    study_name: str,
    storage: str = DEFAULT_STORAGE,
    n_trials: int | None = 10,
    timeout: float | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    heartbeat_interval: int = 60,
    grace_period: int = 120,
    sampler_seed: int | None = None,
) -> optuna.Study:
    """Create or resume the study ``study_name`` in ``storage`` and run ``n_trials`` trials here.

    Several workers given the same name and storage share the study; each needs its own
    ``sampler_seed`` (or none), or they would sample the same points. A trial that raises or
    diverges is recorded as failed and the study goes on.
    """
    if n_trials is not None and n_trials <= 0:
        raise ConfigError(f"n-trials must be positive, actual value: {n_trials}")
    optuna_sampler = make_sampler(sampler, sampler_seed)
    optuna_pruner = make_pruner(pruner, settings.n_evaluations)
    study = optuna.create_study(
        study_name=study_name,
        storage=make_storage(storage, heartbeat_interval, grace_period),
        sampler=optuna_sampler,
        pruner=optuna_pruner,
        direction="maximize",
        load_if_exists=True,
    )
    study.set_user_attr("settings", {k: to_yaml_value(v) for k, v in vars(settings).items()})
    study.optimize(
        functools.partial(objective, settings=settings), n_trials=n_trials, timeout=timeout, catch=(Exception,)
    )
    return study


def best_config(study: optuna.Study, settings: TuneSettings) -> dict[str, Any]:
    """The best trial as a hyperparams file (zoo_configs' format) for ``settings.level``."""
    from sb3_mario.presets import get_preset

    hyperparams = {**get_preset(settings.base_preset), **(settings.overrides or {})}
    hyperparams.update(convert_params(study.best_trial.params))
    return {env_id(settings.level): to_yaml_value(hyperparams)}


def summary_table(study: optuna.Study) -> str:
    """One line per trial: number, state, score, parameters."""
    lines = [f"{'trial':>5}  {'state':<8} {'score':>9}  params"]
    for t in study.trials:
        value = "" if t.value is None else f"{t.value:.5f}"
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.params.items())
        lines.append(f"{t.number:>5}  {t.state.name:<8} {value:>9}  {params}")
    return "\n".join(lines)


def write_outputs(study: optuna.Study, settings: TuneSettings, output_dir: str | Path) -> list[Path]:
    """Write the best config (YAML), the summary and the plots (history, importances) to ``output_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    (out / "summary.txt").write_text(summary_table(study) + "\n")
    written.append(out / "summary.txt")
    if not complete:
        return written
    config = out / "best_config.yml"
    config.write_text(yaml.safe_dump(best_config(study, settings), sort_keys=False))
    written.append(config)
    plots = {"optimization_history.png": ovm.plot_optimization_history}
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
