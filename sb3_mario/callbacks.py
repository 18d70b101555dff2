"""Training callbacks: win-rate logging with a per-episode CSV, crash-safe checkpoints, evaluations that
survive a resume, signals."""

from __future__ import annotations

import csv
import json
import os
import signal
import time
from collections import deque
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback

EPISODE_FIELDS = ("episode", "timestep", "reward", "length", "win", "x_pos", "level", "wall_time")


class WinRateCallback(BaseCallback):
    """Log wins and progress per episode, over a sliding window and per block of episodes.

    SB3 already logs ``rollout/success_rate`` from ``info["is_success"]``; this adds:

    * ``rollout/win_rate``: win % over the last ``window`` episodes (100 by default);
    * ``rollout/mean_final_x_pos``: mean final ``x_pos`` over the same window;
    * ``rollout/block_win_rate`` and ``rollout/block_mean_reward``: win % and mean reward of the
      last complete block of ``block`` episodes (the tutorial plots blocks of 500);
    * ``episodes.csv``: one row per episode (``EPISODE_FIELDS``), from every env of a vec env.

    Episode numbers continue from an existing CSV, so a resumed run has no gap and no duplicate
    (:func:`truncate_episodes` drops rows past the checkpoint first).

    :param csv_path: the per-episode CSV, appended to
    :param window: episodes in the sliding window
    :param block: episodes per block
    """

    def __init__(self, csv_path: str | Path, window: int = 100, block: int = 500, verbose: int = 0):
        super().__init__(verbose)
        if window < 1 or block < 1:
            raise ValueError(f"window and block must be >= 1, actual values: {window}, {block}")
        self.csv_path = Path(csv_path)
        self.window = window
        self.block = block
        self._recent: deque[tuple[bool, float]] = deque(maxlen=window)
        self._block: list[tuple[bool, float]] = []
        self.episodes = 0

    def _on_training_start(self) -> None:
        rows = read_episodes(self.csv_path)
        self.episodes = len(rows) and int(rows[-1]["episode"])
        for row in rows[-self.window :]:
            self._recent.append((row["win"] == "1", float(row["x_pos"])))
        done_blocks = self.episodes - self.episodes % self.block
        self._block = [(row["win"] == "1", float(row["reward"])) for row in rows if int(row["episode"]) > done_blocks]
        new = not self.csv_path.exists()
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.csv_path, "a", newline="")
        self._writer = csv.writer(self._file)
        if new:
            self._writer.writerow(EPISODE_FIELDS)
        self._start = time.time()

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"], strict=True):
            if done and "episode" in info:
                self._record(info["episode"])
        return True

    def _record(self, episode: dict[str, Any]) -> None:
        self.episodes += 1
        win = bool(episode["is_success"])
        x_pos = float(episode["x_pos"])
        self._writer.writerow(
            (
                self.episodes,
                self.num_timesteps,
                f"{episode['r']:.2f}",
                episode["l"],
                int(win),
                int(x_pos),
                f"{episode['world']}-{episode['stage']}",
                f"{time.time() - self._start:.1f}",
            )
        )
        self._file.flush()
        self._recent.append((win, x_pos))
        self.logger.record("rollout/win_rate", 100.0 * np.mean([w for w, _ in self._recent]))
        self.logger.record("rollout/mean_final_x_pos", float(np.mean([x for _, x in self._recent])))
        self.logger.record("rollout/episodes", self.episodes)
        self._block.append((win, float(episode["r"])))
        if len(self._block) == self.block:
            self.logger.record("rollout/block_win_rate", 100.0 * np.mean([w for w, _ in self._block]))
            self.logger.record("rollout/block_mean_reward", float(np.mean([r for _, r in self._block])))
            self._block = []

    def _on_training_end(self) -> None:
        self._file.close()


def read_episodes(csv_path: str | Path) -> list[dict[str, str]]:
    """Return the rows of an episode CSV, or ``[]`` when there is none."""
    path = Path(csv_path)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def truncate_episodes(csv_path: str | Path, max_timestep: int) -> None:
    """Drop the rows of episodes that ended after ``max_timestep`` (replayed after a resume)."""
    path = Path(csv_path)
    rows = read_episodes(path)
    keep = [row for row in rows if int(row["timestep"]) <= max_timestep]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=EPISODE_FIELDS)
        writer.writeheader()
        writer.writerows(keep)
    os.replace(tmp, path)


def _atomic(save: Any, path: Path) -> None:
    """Write through ``save(tmp)`` and rename, so a kill mid-write never leaves a broken file."""
    tmp = path.with_name(path.name + ".tmp")
    save(tmp)
    os.replace(tmp, path)


class CheckpointCallback(BaseCallback):
    """Save the model (and optionally the replay buffer) every ``save_freq`` env steps, atomically.

    Each checkpoint is ``model.zip`` (+ ``replay_buffer.pkl``) and ``checkpoint.json`` with the
    step count, written last, so the newest ``checkpoint.json`` always names a complete pair.
    Unlike SB3's ``CheckpointCallback`` the frequency counts env steps over all envs, and one
    checkpoint is kept (a replay buffer is gigabytes).

    :param save_path: folder of the checkpoint
    :param save_freq: env steps (summed over envs) between checkpoints
    :param save_replay_buffer: also save the replay buffer, so a resume keeps it
    """

    def __init__(self, save_path: str | Path, save_freq: int, save_replay_buffer: bool = False, verbose: int = 0):
        super().__init__(verbose)
        if save_freq < 1:
            raise ValueError(f"save_freq must be >= 1, actual value: {save_freq}")
        self.save_path = Path(save_path)
        self.save_freq = save_freq
        self.save_replay_buffer = save_replay_buffer
        self._last = 0

    def _on_training_start(self) -> None:
        self._last = self.num_timesteps

    def _on_step(self) -> bool:
        if self.num_timesteps - self._last >= self.save_freq:
            self.save()
        return True

    def save(self) -> None:
        """Write a checkpoint now."""
        self.save_path.mkdir(parents=True, exist_ok=True)
        tmp = self.save_path / "model.tmp.zip"  # SB3 appends ".zip" to names without it
        self.model.save(tmp)
        os.replace(tmp, self.save_path / "model.zip")
        if self.save_replay_buffer:
            _atomic(self.model.save_replay_buffer, self.save_path / "replay_buffer.pkl")
        steps = self.model.num_timesteps  # the model's own count: also right outside learn()
        meta = {"num_timesteps": steps, "replay_buffer": self.save_replay_buffer}
        _atomic(lambda p: p.write_text(json.dumps(meta)), self.save_path / "checkpoint.json")
        self._last = steps
        if self.verbose:
            print(f"Checkpoint at {steps} steps in {self.save_path}")


class ResumableEvalCallback(EvalCallback):
    """SB3's :class:`~stable_baselines3.common.callbacks.EvalCallback`, continued across ``--resume``.

    SB3's callback starts with an empty history: on a resumed run it would overwrite ``evaluations.npz``
    with the evaluations after the resume only, and replace ``best_model.zip`` with the first of them
    however it compares. This one first reads the ``evaluations.npz`` already in ``log_path`` (keeping
    the evaluations up to the model's current step, as :func:`truncate_episodes` does for episodes)
    and takes its best mean reward. A history with another number of episodes per evaluation cannot
    share the file: it is kept as ``evaluations-until-<step>.npz`` and a new one starts.

    Beside SB3's ``best_model.zip`` (the highest mean reward), ``best_win_rate_model.zip`` keeps the
    model with the highest win rate (``info["is_success"]``), ties broken by mean reward: on Mario a
    model that runs far and then stalls can out-score one that wins more often. Its best so far is
    also taken from the history.
    """

    best_win_score: tuple[float, float] = (-np.inf, -np.inf)

    def _on_step(self) -> bool:
        evaluated = self.eval_freq > 0 and self.n_calls % self.eval_freq == 0
        continue_training = super()._on_step()
        if evaluated and self._is_success_buffer:
            score = (float(np.mean(self._is_success_buffer)), self.last_mean_reward)
            if score > self.best_win_score:
                self.best_win_score = score
                if self.best_model_save_path is not None:
                    self.model.save(os.path.join(self.best_model_save_path, "best_win_rate_model"))
        return continue_training

    def _init_callback(self) -> None:
        super()._init_callback()
        path = None if self.log_path is None else Path(self.log_path + ".npz")  # SB3 saves with np.savez
        if path is None or not path.exists():
            return
        with np.load(path) as saved:
            history = {key: saved[key] for key in saved.files}
        keep = history["timesteps"] <= self.model.num_timesteps
        if history["results"].shape[1:] != (self.n_eval_episodes,):
            path.rename(path.with_name(f"evaluations-until-{int(history['timesteps'][-1])}.npz"))
            return
        self.evaluations_timesteps = history["timesteps"][keep].tolist()
        self.evaluations_results = history["results"][keep].tolist()
        self.evaluations_length = history["ep_lengths"][keep].tolist()
        if "successes" in history:
            self.evaluations_successes = history["successes"][keep].tolist()
        if self.evaluations_results:
            self.best_mean_reward = max(float(np.mean(r)) for r in self.evaluations_results)
        if self.evaluations_successes and len(self.evaluations_successes) == len(self.evaluations_results):
            scored = zip(self.evaluations_successes, self.evaluations_results, strict=True)
            self.best_win_score = max((float(np.mean(w)), float(np.mean(r))) for w, r in scored)


class StopTraining(BaseCallback):
    """Stop ``learn()`` cleanly on SIGINT or SIGTERM, or once ``total_timesteps`` is reached.

    SB3 collects whole ``train_freq`` rollouts and can overshoot the requested total; stopping
    here makes the final ``num_timesteps`` equal to it (rounded up to a multiple of ``n_envs``).
    The signal handlers are installed for the duration of training and restored after.

    :param total_timesteps: env steps at which to stop; ``None`` leaves it to ``learn()``
    """

    def __init__(self, total_timesteps: int | None = None, verbose: int = 0):
        super().__init__(verbose)
        self.total_timesteps = total_timesteps
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    def _on_training_start(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def _on_step(self) -> bool:
        reached = self.total_timesteps is not None and self.num_timesteps >= self.total_timesteps
        return self.received is None and not reached

    def _on_training_end(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
