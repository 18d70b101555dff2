"""Training, resuming and branching: SB3's ``learn()`` plus callbacks, in a run folder.

Run folder layout::

    RUN_DIR/
      config.yaml          resolved settings and hyperparams (what ``--resume`` reads)
      command.txt          the command line(s) that produced the run
      checkpoints/         model.zip, checkpoint.json [, replay_buffer.pkl]
      episodes.csv         one row per episode (WinRateCallback)
      logs/<start_step>/   progress.csv of each training segment
      tb/                  TensorBoard event files
      eval/                best_model.zip, best_win_rate_model.zip, evaluations.npz (ResumableEvalCallback)
      final_model.zip      the model at the end of the last segment
"""

from __future__ import annotations

import contextlib
import inspect
import json
import shlex
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.logger import Logger, make_output_format
from stable_baselines3.common.vec_env import VecEnv

from sb3_mario.callbacks import (
    CheckpointCallback,
    ResumableEvalCallback,
    StopTraining,
    WinRateCallback,
    truncate_episodes,
)
from sb3_mario.config import (
    ConfigError,
    Hyperparams,
    build_callbacks,
    get_algo,
    load_config,
    split_hyperparams,
    to_yaml_value,
)
from sb3_mario.env import make_mario_vec_env
from sb3_mario.evaluation import load_model
from sb3_mario.presets import DEFAULT_PRESET, get_preset
from sb3_mario.registration import env_id

REPLAY_BUFFER_KEYS = ("replay_buffer_class", "replay_buffer_kwargs", "buffer_size")
"""Replay buffer hyperparams, which ``resume`` takes from ``config.yaml`` rather than from the checkpoint."""

TRAIN_FREQ_KEYS = ("train_freq", "gradient_steps")
"""How often and how much the model learns per env step, which ``resume`` also takes from ``config.yaml``:
with ``n_envs`` (read from there too) they set the updates per transition, so a run moved to a machine
with fewer cores keeps its ratio when the three are edited together."""

LEARNING_RATE_KEYS = ("learning_rate",)
"""The step size, which ``resume`` also takes from ``config.yaml``: a run whose greedy policy swings
from one evaluation to the next can go on with smaller steps."""


@dataclass
class TrainSettings:
    """Everything about a run except the hyperparameters; defaults are the CLI's.

    :param algo: ``ddqn`` (our DoubleDQN) or ``dqn`` (SB3's DQN)
    :param level: level to train on, ``"1-1"`` .. ``"8-4"`` or ``"random"``
    :param run_dir: the run folder
    :param seed: seed of the model and of the first training env
    :param device: torch device, ``"auto"`` picks CUDA when there is one
    :param vec_env: ``"subproc"`` (one process per env) or ``"dummy"``
    :param eval_freq: env steps between evaluations (0: none)
    :param eval_episodes: episodes per evaluation; 31, with ``eval_noop_max`` 30, plays each start once
    :param eval_noop_max: evaluation episodes start with 0, 1, ..., ``eval_noop_max`` no-op frames in
        turn (30 as in Mnih et al., 2015). Greedy play is deterministic, as the emulator is, so
        ``eval_noop_max + 1`` episodes give the exact win rate under random no-op starts.
    :param checkpoint_freq: env steps between checkpoints
    :param save_replay_buffer: checkpoints include the replay buffer
    :param progress_bar: show SB3's progress bar
    :param log_window: episodes in the sliding win-rate window
    :param log_block: episodes per block of the block win rate (500 in the tutorial's plots)
    """

    algo: str = "ddqn"
    level: str = "1-1"
    run_dir: str = "runs/ddqn-1-1"
    seed: int | None = 0
    device: str = "auto"
    vec_env: str = "subproc"
    eval_freq: int = 50_000
    eval_episodes: int = 31
    eval_noop_max: int = 30
    checkpoint_freq: int = 50_000
    save_replay_buffer: bool = False
    progress_bar: bool = True
    log_window: int = 100
    log_block: int = 500
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_hyperparams(
    algo: str, level: str, preset: str | None = None, config: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """Hyperparams from a preset or a config file, then overrides (``None`` values ignored)."""
    get_algo(algo)
    if preset is not None and config is not None:
        raise ConfigError("give --preset or --config, not both")
    hp = load_config(config, env_id(level)) if config else get_preset(preset or DEFAULT_PRESET)
    hp.update({k: v for k, v in overrides.items() if v is not None})
    return hp


def _write_config(run_dir: Path, settings: TrainSettings, hyperparams: dict[str, Any]) -> None:
    doc = {"settings": asdict(settings), "hyperparams": to_yaml_value(hyperparams)}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with open(run_dir / "command.txt", "a") as f:
        f.write(shlex.join(sys.argv) + "\n")


def make_eval_env(settings: TrainSettings) -> VecEnv:
    """The env of a run's evaluations: the training env's kwargs, with ``eval_noop_max`` no-op
    frames at the start, 0, 1, ... in turn (so ``eval_noop_max + 1`` episodes try every start)."""
    return make_mario_vec_env(
        1,
        settings.level,
        seed=None if settings.seed is None else settings.seed + 10_000,
        vec_env="dummy",
        env_kwargs={**settings.extra.get("env_kwargs", {}), "noop_max": settings.eval_noop_max, "noop_in_turn": True},
    )


def _learn(model: BaseAlgorithm, settings: TrainSettings, hp_callbacks: list[Any], total: int) -> BaseAlgorithm:
    """Run ``learn()`` up to ``total`` env steps with the run's callbacks; always checkpoint at the end."""
    run_dir = Path(settings.run_dir)
    n_envs = model.get_env().num_envs
    logger = Logger(
        folder=str(run_dir),
        output_formats=[
            make_output_format("stdout", str(run_dir)),
            make_output_format("csv", str(run_dir / "logs" / f"{model.num_timesteps:09d}")),
            make_output_format("tensorboard", str(run_dir / "tb")),
        ],
    )
    model.set_logger(logger)
    checkpoint = CheckpointCallback(run_dir / "checkpoints", settings.checkpoint_freq, settings.save_replay_buffer)
    stop = StopTraining(total)
    callbacks = [stop, checkpoint, WinRateCallback(run_dir / "episodes.csv", settings.log_window, settings.log_block)]
    callbacks += build_callbacks(hp_callbacks)
    eval_env = None
    if settings.eval_freq > 0:
        eval_env = make_eval_env(settings)
        callbacks.append(
            ResumableEvalCallback(
                eval_env,
                n_eval_episodes=settings.eval_episodes,
                eval_freq=max(settings.eval_freq // n_envs, 1),
                best_model_save_path=str(run_dir / "eval"),
                log_path=str(run_dir / "eval"),
                deterministic=True,
            )
        )
    try:
        model.learn(
            total_timesteps=total - model.num_timesteps,
            callback=CallbackList(callbacks),
            reset_num_timesteps=False,
            progress_bar=settings.progress_bar,
        )
    finally:
        checkpoint.init_callback(model)
        checkpoint.save()
        model.save(run_dir / "final_model.zip")
        for env in (eval_env, model.get_env()):
            with contextlib.suppress(Exception):  # a crashed worker must not hide the first error
                if env is not None:
                    env.close()
    if stop.received is not None:
        print(
            f"Stopped by signal {stop.received} at {model.num_timesteps} steps; "
            f"checkpoint saved in {checkpoint.save_path}"
        )
    return model


def build_model(
    algo: type[BaseAlgorithm],
    hp: Hyperparams,
    level: str,
    seed: int | None,
    device: str = "auto",
    vec_env: str = "subproc",
) -> BaseAlgorithm:
    """A new model on ``hp.n_envs`` training envs of ``level``: the one place models are built."""
    env = _train_env(hp, level, seed, vec_env)
    return algo(hp.policy, env, seed=seed, device=device, verbose=1, **hp.model_kwargs)


def _train_env(hp: Hyperparams, level: str, seed: int | None, vec_env: str) -> Any:
    return make_mario_vec_env(
        hp.n_envs, level, seed=seed, vec_env=vec_env if hp.n_envs > 1 else "dummy", env_kwargs=hp.env_kwargs
    )


def train(settings: TrainSettings, hyperparams: dict[str, Any], total_timesteps: int | None = None) -> BaseAlgorithm:
    """Train a new model in ``settings.run_dir`` and return it.

    :param settings: the run's settings
    :param hyperparams: a hyperparams entry (see :mod:`sb3_mario.config`)
    :param total_timesteps: env steps to train; ``None`` uses the entry's ``n_timesteps``
    """
    algo = get_algo(settings.algo)
    hp = split_hyperparams(hyperparams, algo)
    total = hp.n_timesteps if total_timesteps is None else total_timesteps
    if total <= 0:
        raise ConfigError(f"timesteps must be positive, actual value: {total}")
    run_dir = Path(settings.run_dir)
    if (run_dir / "checkpoints" / "checkpoint.json").exists():
        raise ConfigError(f"{run_dir} already holds a run: use --resume {run_dir} or another --run-dir")
    run_dir.mkdir(parents=True, exist_ok=True)
    settings.extra = {"env_kwargs": hp.env_kwargs, "n_envs": hp.n_envs, "total_timesteps": total}
    _write_config(run_dir, settings, hyperparams)
    model = build_model(algo, hp, settings.level, settings.seed, settings.device, settings.vec_env)
    return _learn(model, settings, hp.callback, total)


def read_run(run_dir: str | Path) -> tuple[TrainSettings, dict[str, Any]]:
    """Read a run folder's settings and hyperparams."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise ConfigError(f"{run_dir} is not a run folder: it has no config.yaml")
    doc = yaml.safe_load(path.read_text())
    return TrainSettings(**doc["settings"]), doc["hyperparams"]


def resume(run_dir: str | Path, total_timesteps: int | None = None, progress_bar: bool | None = None) -> BaseAlgorithm:
    """Continue a run from its last checkpoint up to its total (or ``total_timesteps``).

    Timesteps, exploration schedule, episode numbering and, when checkpoints hold it, the replay
    buffer continue where the checkpoint left them. Without a saved buffer, the new one is filled
    with ``learning_starts`` transitions before learning goes on (SB3's warm-up, random actions),
    as in a new run; so is a saved buffer whose file was deleted (to free its disk space, or to
    sample it with new ``replay_buffer_kwargs``). Episodes that ended after the checkpoint
    (replayed now) are dropped from ``episodes.csv``. The other hyperparameters are the
    checkpoint's, except ``n_envs`` and ``env_kwargs``, the replay buffer's (``REPLAY_BUFFER_KEYS``), ``train_freq`` and
    ``gradient_steps`` (``TRAIN_FREQ_KEYS``), ``learning_rate`` and the settings, which are read from
    ``config.yaml``: a run whose checkpoints hold no buffer can move to another buffer class or size, or
    start saving it, a run can move to a machine with another number of cores, and a run can go on
    with a smaller learning rate, by editing that file. The run
    continues in ``run_dir``, wherever the folder was when it was made.
    """
    run_dir = Path(run_dir)
    settings, hyperparams = read_run(run_dir)
    settings.run_dir = str(run_dir)
    meta_path = run_dir / "checkpoints" / "checkpoint.json"
    if not meta_path.is_file():
        raise ConfigError(f"{run_dir} has no checkpoint to resume from (no checkpoints/checkpoint.json)")
    meta = json.loads(meta_path.read_text())
    if progress_bar is not None:
        settings.progress_bar = progress_bar
    algo = get_algo(settings.algo)
    hp = split_hyperparams(hyperparams, algo)
    total = int(settings.extra["total_timesteps"]) if total_timesteps is None else total_timesteps
    if total <= 0:
        raise ConfigError(f"timesteps must be positive, actual value: {total}")
    steps = int(meta["num_timesteps"])
    truncate_episodes(run_dir / "episodes.csv", steps)
    env = _train_env(hp, settings.level, None if settings.seed is None else settings.seed + steps, settings.vec_env)
    from_config_keys = REPLAY_BUFFER_KEYS + TRAIN_FREQ_KEYS + LEARNING_RATE_KEYS
    from_config = {k: v for k, v in hp.model_kwargs.items() if k in from_config_keys}
    model = algo.load(run_dir / "checkpoints" / "model.zip", env=env, device=settings.device, **from_config)
    # learning_starts is counted from the start of the run; a buffer that starts empty again is
    # warmed up as a new run's is, instead of being learnt from while it holds a few transitions
    warm_up = hp.model_kwargs.get("learning_starts", inspect.signature(algo).parameters["learning_starts"].default)
    buffer_path = run_dir / "checkpoints" / "replay_buffer.pkl"
    has_buffer = bool(meta.get("replay_buffer")) and buffer_path.is_file()
    if has_buffer:
        model.load_replay_buffer(buffer_path)
    elif meta.get("replay_buffer"):
        print(f"{buffer_path} is gone: a new replay buffer is filled with {warm_up} transitions first")
    model.learning_starts = warm_up + (0 if has_buffer else steps)
    settings.extra.update(env_kwargs=hp.env_kwargs, n_envs=hp.n_envs, total_timesteps=total)
    _write_config(run_dir, settings, hyperparams)
    if model.num_timesteps >= total:
        print(f"{run_dir} is already at {model.num_timesteps} >= {total} steps")
        return model
    return _learn(model, settings, hp.callback, total)


def branch(source: str | Path, model_path: str | Path, run_dir: str | Path) -> int:
    """Make ``run_dir`` a new run that goes on from ``model_path``, one of the models of run ``source``.

    The branch gets the source's ``config.yaml`` (with its own ``run_dir``), the rows of its
    ``episodes.csv`` up to the model's step, and the model as its checkpoint, with no replay buffer:
    :func:`resume` then fills a new buffer with ``learning_starts`` transitions and continues from
    the model's step (timesteps, exploration schedule and episode numbering carry on). Edit the
    branch's ``config.yaml`` before resuming it to try, from the same point, what :func:`resume`
    reads there: a smaller learning rate, another buffer, more envs on another machine.

    :param source: the run folder the model comes from
    :param model_path: a checkpoint, an evaluation's best model, a copy of either or an export
    :param run_dir: the new run folder
    :return: the model's step, where the branch starts
    """
    source, run_dir = Path(source), Path(run_dir)
    settings, hyperparams = read_run(source)
    if (run_dir / "checkpoints" / "checkpoint.json").exists():
        raise ConfigError(f"{run_dir} already holds a run: give the branch a new --run-dir")
    model = load_model(model_path, device="cpu")
    steps = int(model.num_timesteps)
    run_dir.mkdir(parents=True, exist_ok=True)
    if (source / "episodes.csv").is_file():
        shutil.copyfile(source / "episodes.csv", run_dir / "episodes.csv")
        truncate_episodes(run_dir / "episodes.csv", steps)
    settings.run_dir = str(run_dir)
    _write_config(run_dir, settings, hyperparams)
    checkpoint = CheckpointCallback(run_dir / "checkpoints", settings.checkpoint_freq)  # no buffer to save
    checkpoint.init_callback(model)
    checkpoint.save()  # its checkpoint.json, written last, marks the branch complete
    return steps
