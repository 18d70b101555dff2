"""The settings of a tuning study (no torch, so the command line can show them cheaply)."""

from __future__ import annotations

from dataclasses import dataclass

from sb3_mario.run.config import setting


@dataclass
class TuneSettings:
    """How a study searches; what each trial trains is the run config the study is given."""

    study_name: str = setting("sb3-mario", "name of the study in its storage")
    storage: str = setting(
        "sqlite:///sb3-mario-optuna.db", "SQLAlchemy URL or journal file (*.log); workers on one storage share a study"
    )
    n_trials: int = setting(10, "trials this worker runs; 0 only writes the study's outputs")
    max_trials: int | None = setting(
        None, "the study stops once it holds this many complete or pruned trials (so the same command resumes it)"
    )
    timeout: float | None = setting(None, "seconds after which this worker starts no new trial")
    sampler: str = setting("tpe", "tpe (RL Zoo's default) or random", ("tpe", "random"))
    pruner: str = setting("median", "median (RL Zoo's default), halving or none", ("median", "halving", "none"))
    trial_timesteps: int = setting(100_000, "env steps each trial trains")
    n_evaluations: int = setting(4, "evaluations per trial, each a pruning point (RL Zoo's default is 1 per 1/n)")
    full_space: bool = setting(False, "also search the target update interval and the train frequency")
    sampler_seed: int | None = setting(
        None, "seed of the sampler, offset by the trials already in the study (default: random)"
    )
    heartbeat_interval: int = setting(60, "seconds between a worker's heartbeats (database storages)")
    grace_period: int = setting(120, "seconds without heartbeat after which a trial is failed and queued again")
    output_dir: str = setting("tuning-results", "folder of the best config, summary and plots")
    trial_checkpoints: bool = setting(
        True,
        "checkpoint each running trial (model and replay buffer) at its evaluations, in OUTPUT_DIR/trials/: a "
        "trial cut off by a stop goes on from there when it is run again; removed when the trial ends",
    )
