"""Training, resuming and branching: SB3's ``learn()`` plus callbacks, in a run folder.

Run folder layout::

    RUN_DIR/
      config.yaml          the run config, each setting once (sb3_mario.run.config): what --resume reads
      command.txt          the command line(s) that produced the run
      checkpoints/         model.zip, checkpoint.json (step, config trained with) [, replay_buffer.pkl,
                           replay_starts.pkl (the episodes replayed starts go on from)]
      episodes.csv         one row per episode (WinRateCallback)
      logs/<start_step>/   progress.csv of each training segment
      tb/                  TensorBoard event files
      eval/                best_model.zip, best_win_rate_model.zip, [best_average_model.zip, bar_model.zip,
                           average_bar_model.zip,] evaluations.npz (EvalCallback)
      final_model.zip      the model at the end of the last segment
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.logger import Logger, make_output_format
from stable_baselines3.common.vec_env import VecEnv

from sb3_mario.env import make_mario_vec_env
from sb3_mario.errors import ConfigError
from sb3_mario.run.callbacks import (
    REPLAY_BUFFER,
    REPLAY_STARTS,
    CheckpointCallback,
    EvalCallback,
    StopTraining,
    WinRateCallback,
    restore_replay_start_pools,
)
from sb3_mario.run.config import RunConfig, build_callbacks, constructor_defaults, resume_changes, with_overrides
from sb3_mario.run.episodes import truncate_episodes
from sb3_mario.run.evaluation import Bar, load_model, make_eval_env
from sb3_mario.run.seeding import seed_for

#: Where a run folder keeps its checkpoint.
CHECKPOINTS = "checkpoints"


def make_train_env(config: RunConfig, start_step: int = 0, vec_env: str | None = None) -> VecEnv:
    """The training envs of a run segment that starts at ``start_step``, seeded as the model will seed
    them (``seed_for(seed, "model", start_step) + i``: SB3's ``set_random_seed`` seeds a model's envs).

    :param vec_env: ``"subproc"`` or ``"dummy"``; the run's ``vec_env`` setting by default (one
        env always runs in-process)
    """
    n_envs = int(config.hyperparams.get("n_envs", 1))
    kind = vec_env or config.settings.vec_env
    try:
        return make_mario_vec_env(
            n_envs,
            config.settings.level,
            seed=seed_for(config.settings.seed, "model", start_step),
            vec_env=kind if n_envs > 1 else "dummy",
            env_kwargs=config.env_kwargs,
        )
    except (ValueError, TypeError) as e:
        raise ConfigError(f"cannot build the training envs: {e}") from None


def build_model(config: RunConfig, vec_env: str | None = None) -> BaseAlgorithm:
    """A new model of ``config`` on its training envs: the one place models are built."""
    hp = config.split()
    env = make_train_env(config, 0, vec_env)
    seed = seed_for(config.settings.seed, "model")
    return hp.algo(hp.policy, env, seed=seed, device=config.settings.device, verbose=1, **hp.model_kwargs)


def _write_command(run_dir: Path) -> None:
    with open(run_dir / "command.txt", "a") as f:
        f.write(shlex.join(sys.argv) + "\n")


def _learn(model: BaseAlgorithm, config: RunConfig, run_dir: Path, progress_bar: bool) -> BaseAlgorithm:
    """Run ``learn()`` up to the run's budget with the run's callbacks; always checkpoint at the end."""
    settings = config.settings
    total = config.n_timesteps
    logger = Logger(
        folder=str(run_dir),
        output_formats=[
            make_output_format("stdout", str(run_dir)),
            make_output_format("csv", str(run_dir / "logs" / f"{model.num_timesteps:09d}")),
            make_output_format("tensorboard", str(run_dir / "tb")),
        ],
    )
    model.set_logger(logger)
    checkpoint = CheckpointCallback(
        run_dir / CHECKPOINTS, settings.checkpoint_freq, settings.save_replay_buffer, config.to_dict()
    )
    stop = StopTraining(total)
    callbacks = [stop, checkpoint, WinRateCallback(run_dir / "episodes.csv", settings.log_window, settings.log_block)]
    callbacks += build_callbacks(config.split().callback)
    eval_env = None
    if settings.eval_freq > 0:
        eval_env = make_eval_env(config)
        seed = seed_for(settings.seed, "eval", model.num_timesteps)
        bar_check = None
        if settings.bar_episodes > 0:
            bar = Bar(episodes=settings.bar_episodes)
            bar_check = functools.partial(bar.check, config=config, seed=seed)
        callbacks.append(
            EvalCallback(
                eval_env,
                settings.eval_episodes,
                settings.eval_freq,
                run_dir / "eval",
                seed,
                verbose=1,
                bar_check=bar_check,
                stop_at_bar=settings.stop_at_bar,
            )
        )
    with stop:  # a signal that arrives while the checkpoint is written waits for it
        try:
            model.learn(
                total_timesteps=total - model.num_timesteps,
                callback=CallbackList(callbacks),
                reset_num_timesteps=False,
                progress_bar=progress_bar,
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


def train(config: RunConfig, run_dir: str | Path, progress_bar: bool = True) -> BaseAlgorithm:
    """Train a new model of ``config`` in ``run_dir`` and return it."""
    run_dir = Path(run_dir)
    if (run_dir / CHECKPOINTS / "checkpoint.json").exists():
        raise ConfigError(f"{run_dir} already holds a run: use --resume {run_dir} or another --run-dir")
    config.split()  # every class imports and every key checks before the folder is made
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(run_dir)
    _write_command(run_dir)
    # a start stopped before its first checkpoint left episodes that this run replays from step 0
    truncate_episodes(run_dir / "episodes.csv", 0)
    model = build_model(config)
    return _learn(model, config, run_dir, progress_bar)


def read_checkpoint(run_dir: Path) -> dict[str, Any]:
    """A run's ``checkpoints/checkpoint.json``: the step, whether a buffer was saved, the config."""
    meta_path = run_dir / CHECKPOINTS / "checkpoint.json"
    if not meta_path.is_file():
        raise ConfigError(f"{run_dir} has no checkpoint to resume from (no {CHECKPOINTS}/checkpoint.json)")
    return json.loads(meta_path.read_text())


def load_checkpoint(config: RunConfig, run_dir: Path, vec_env: str | None = None) -> BaseAlgorithm:
    """The model of ``run_dir``'s checkpoint on new training envs of ``config``, with its replay
    buffer when the checkpoint holds it, ready to go on learning.

    ``learning_starts`` is counted from the start of the run: a buffer that starts empty again is
    warmed up as a new run's is, instead of being learnt from while it holds a few transitions.

    :param vec_env: as :func:`make_train_env`
    """
    meta = read_checkpoint(run_dir)
    steps = int(meta["num_timesteps"])
    buffer_path = run_dir / CHECKPOINTS / REPLAY_BUFFER
    keeps_buffer = bool(meta.get("replay_buffer")) and buffer_path.is_file()
    hp = config.split()
    env = make_train_env(config, steps, vec_env)
    kwargs = {k: v for k, v in hp.model_kwargs.items() if k != "policy_kwargs"}  # fixed within a run
    try:
        model = hp.algo.load(
            run_dir / CHECKPOINTS / "model.zip",
            env=env,
            device=config.settings.device,
            seed=seed_for(config.settings.seed, "model", steps),
            **kwargs,
        )
    except ConfigError:  # a hyperparameter the model refuses
        env.close()
        raise
    except ValueError as e:  # SB3's check of the spaces against the env's
        env.close()
        raise ConfigError(f"the checkpoint cannot play the run's env: {e}") from None
    warm_up = hp.model_kwargs.get("learning_starts", constructor_defaults(hp.algo)["learning_starts"])
    if keeps_buffer:
        model.load_replay_buffer(buffer_path)
    elif meta.get("replay_buffer"):
        print(f"{buffer_path} is gone: a new replay buffer is filled with {warm_up} transitions first")
    model.learning_starts = warm_up + (0 if keeps_buffer else steps)
    restore_replay_start_pools(env, run_dir / CHECKPOINTS / REPLAY_STARTS, config.settings.level)
    return model


def resume(
    run_dir: str | Path,
    hyperparams: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    progress_bar: bool = True,
) -> BaseAlgorithm:
    """Continue a run from its last checkpoint, with the whole of its ``config.yaml``.

    The run is rebuilt from the file, so an edit of any key is applied (and printed), or refused with
    one line that names the key when it cannot change within a run
    (:func:`~sb3_mario.run.config.resume_changes`). ``hyperparams`` and ``settings`` are applied on
    top, as edits of the file, and written to it. Timesteps, the exploration schedule, episode
    numbering, evaluations and, when the checkpoint holds it, the replay buffer carry on. Without a
    saved buffer (or with its file deleted) a new one is filled with ``learning_starts`` transitions
    before learning goes on, as in a new run. Episodes that ended after the checkpoint (replayed
    now) are dropped from ``episodes.csv``. The run continues in ``run_dir``, wherever it was made.
    """
    run_dir = Path(run_dir)
    config = with_overrides(RunConfig.load(run_dir), hyperparams, settings)
    meta = read_checkpoint(run_dir)
    steps = int(meta["num_timesteps"])
    buffer_path = run_dir / CHECKPOINTS / REPLAY_BUFFER
    keeps_buffer = bool(meta.get("replay_buffer")) and buffer_path.is_file()
    if meta.get("config") is not None:
        saved = RunConfig.from_dict(meta["config"], f"{run_dir}/{CHECKPOINTS}/checkpoint.json")
        for change in resume_changes(saved, config, keeps_buffer):
            print(f"applied from config.yaml: {change}")
    config.split()  # a config that cannot build a model fails before it is written
    config.save(run_dir)
    _write_command(run_dir)
    if steps >= config.n_timesteps:
        print(f"{run_dir} is already at {steps} >= {config.n_timesteps} steps")
        return load_model(run_dir / CHECKPOINTS / "model.zip", config.settings.device)
    truncate_episodes(run_dir / "episodes.csv", steps)
    model = load_checkpoint(config, run_dir)
    return _learn(model, config, run_dir, progress_bar)


def branch(source: str | Path, model_path: str | Path, run_dir: str | Path) -> int:
    """Make ``run_dir`` a new run that goes on from ``model_path``, one of the models of run ``source``.

    The branch gets the source's ``config.yaml``, the rows of its ``episodes.csv`` up to the
    model's step, and the model as its checkpoint. A checkpoint's ``model.zip`` (of the run, or a copy
    of its ``checkpoints`` folder) brings the replay buffer and the replayed starts saved beside it
    (hard links where the filesystem allows), so that the branch goes on exactly as the run would have;
    any other model comes with no replay buffer, and :func:`resume` then fills a new one with
    ``learning_starts`` transitions. Either way the branch continues from the model's step (timesteps,
    exploration schedule and episode numbering carry on). Edit the branch's ``config.yaml`` before
    resuming it to try another learning rate, buffer or number of envs from the same point.

    :param source: the run folder the model comes from
    :param model_path: a checkpoint, an evaluation's best model, a copy of either or an export
    :param run_dir: the new run folder
    :return: the model's step, where the branch starts
    """
    source, run_dir = Path(source), Path(run_dir)
    config = RunConfig.load(source)
    if (run_dir / CHECKPOINTS / "checkpoint.json").exists():
        raise ConfigError(f"{run_dir} already holds a run: give the branch a new --run-dir")
    model = load_model(model_path, device="cpu")
    steps = int(model.num_timesteps)
    run_dir.mkdir(parents=True, exist_ok=True)
    if (source / "episodes.csv").is_file():
        shutil.copyfile(source / "episodes.csv", run_dir / "episodes.csv")
        truncate_episodes(run_dir / "episodes.csv", steps)
    config.save(run_dir)
    _write_command(run_dir)
    kept = _saved_buffer(Path(model_path), steps)
    (run_dir / CHECKPOINTS).mkdir(exist_ok=True)
    for path in kept:
        target = run_dir / CHECKPOINTS / path.name
        try:
            os.link(path, target)
        except OSError:  # another filesystem
            shutil.copyfile(path, target)
    # the config is the source's, against which the branch's edits are applied
    checkpoint = CheckpointCallback(run_dir / CHECKPOINTS, config.settings.checkpoint_freq, config=config.to_dict())
    checkpoint.init_callback(model)
    checkpoint.save(buffer_in_place=bool(kept))  # its checkpoint.json, written last, marks the branch complete
    return steps


def _saved_buffer(model_path: Path, steps: int) -> list[Path]:
    """The replay buffer (and replayed starts) saved beside a checkpoint's ``model.zip`` of step ``steps``."""
    meta_path = model_path.with_name("checkpoint.json")
    buffer_path = model_path.with_name(REPLAY_BUFFER)
    if model_path.name != "model.zip" or not meta_path.is_file() or not buffer_path.is_file():
        return []
    meta = json.loads(meta_path.read_text())
    if int(meta.get("num_timesteps", -1)) != steps or not meta.get("replay_buffer"):
        return []
    starts = model_path.with_name(REPLAY_STARTS)
    return [buffer_path, *([starts] if starts.is_file() else [])]
