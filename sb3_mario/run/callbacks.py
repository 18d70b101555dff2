"""Training callbacks: win-rate logging with a per-episode CSV, crash-safe checkpoints, evaluations that
survive a resume, signals."""

from __future__ import annotations

import csv
import json
import os
import pickle
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from sb3_mario.env.levels import level_names
from sb3_mario.run.episodes import EPISODE_FIELDS, from_start, read_episodes
from sb3_mario.run.evaluation import Episode, Player, play_episodes, summarize


class WinRateCallback(BaseCallback):
    """Log wins and progress per episode, over a sliding window and per block of episodes.

    SB3 already logs ``rollout/success_rate`` from ``info["is_success"]``; this adds:

    * ``rollout/win_rate``: win % over the last ``window`` episodes (100 by default);
    * ``rollout/mean_final_x_pos``: mean final ``x_pos`` over the same window;
    * ``rollout/block_win_rate`` and ``rollout/block_mean_reward``: win % and mean reward of the
      last complete block of ``block`` episodes (the tutorial plots blocks of 500);
    * ``episodes.csv``: one row per episode (``EPISODE_FIELDS``), from every env of a vec env.

    Episodes that began part-way along an earlier one (``replay_start_probability``) are written to
    the CSV, but left out of the logged rates and means: these count episodes from the game's start.

    Episode numbers and ``wall_time`` (seconds of training) continue from an existing CSV, so a
    resumed run has no gap and no duplicate (:func:`truncate_episodes` drops rows past the
    checkpoint first) and its clock counts the training it took, without the time between a stop
    and its resume.

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
        every_row = read_episodes(self.csv_path)
        self.episodes = len(every_row) and int(every_row[-1]["episode"])
        rows = from_start(every_row)
        for row in rows[-self.window :]:
            self._recent.append((row["win"] == "1", float(row["x_pos"])))
        done_blocks = len(rows) - len(rows) % self.block
        self._block = [(row["win"] == "1", float(row["reward"])) for row in rows[done_blocks:]]
        new = not self.csv_path.exists()
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.csv_path, "a", newline="")
        self._writer = csv.writer(self._file)
        if new:
            self._writer.writerow(EPISODE_FIELDS)
        self._start = time.time() - (float(every_row[-1]["wall_time"]) if every_row else 0.0)

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"], strict=True):
            if done and "episode" in info:
                self._record(info["episode"])
        return True

    def _record(self, episode: dict[str, Any]) -> None:
        self.episodes += 1
        win = bool(episode["is_success"])
        x_pos = float(episode["x_pos"])
        replayed = int(episode.get("replayed_frames", 0))
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
                replayed,
            )
        )
        self._file.flush()
        self.logger.record("rollout/episodes", self.episodes)
        if replayed:
            return
        self._recent.append((win, x_pos))
        self.logger.record("rollout/win_rate", 100.0 * np.mean([w for w, _ in self._recent]))
        self.logger.record("rollout/mean_final_x_pos", float(np.mean([x for _, x in self._recent])))
        self._block.append((win, float(episode["r"])))
        if len(self._block) == self.block:
            self.logger.record("rollout/block_win_rate", 100.0 * np.mean([w for w, _ in self._block]))
            self.logger.record("rollout/block_mean_reward", float(np.mean([r for _, r in self._block])))
            self._block = []

    def _on_training_end(self) -> None:
        self._file.close()


def _atomic(save: Any, path: Path) -> None:
    """Write through ``save(tmp)`` and rename, so a kill mid-write never leaves a broken file."""
    tmp = path.with_name(path.name + ".tmp")
    save(tmp)
    os.replace(tmp, path)


#: A checkpoint's file of the replay buffer, when the run saves it (``save_replay_buffer``).
REPLAY_BUFFER = "replay_buffer.pkl"

#: A checkpoint's file of the episodes that training envs with replayed starts replay from, kept beside the replay
#: buffer: without it a resumed run would start again from the game's start until its envs got as far as before.
REPLAY_STARTS = "replay_starts.pkl"


def replay_start_pools(env: VecEnv | None) -> list[dict[str, list[tuple[int, np.ndarray]]]] | None:
    """Each env's pools of :class:`~sb3_mario.env.wrappers.ReplayStart`, by level (``None`` without replayed
    starts)."""
    if env is None or not env.has_attr("pools"):
        return None
    return env.get_attr("pools")


def restore_replay_start_pools(env: VecEnv, path: Path, level: str | Sequence[str]) -> None:
    """Give each env the pools a checkpoint saved in ``path``, when both have replayed starts and as many envs.

    :param level: the run's level setting; a checkpoint written when an env kept one pool (a list, not pools by
        level) holds that one level's
    """
    if not path.is_file() or not env.has_attr("pools"):
        return
    saved = pickle.loads(path.read_bytes())
    if len(saved) != env.num_envs:
        return
    levels = level_names(level)
    for i, pools in enumerate(saved):
        if isinstance(pools, list):  # one pool per env, as checkpoints of single-level runs kept them before
            if len(levels) != 1:
                return
            pools = {levels[0]: pools}
        env.env_method("set_pools", pools, indices=[i])


class CheckpointCallback(BaseCallback):
    """Save the model (and optionally the replay buffer) every ``save_freq`` env steps, atomically.

    Checkpoints fall on multiples of ``save_freq`` env steps, counted over all envs and across
    resumes (as :class:`EvalCallback`'s evaluations), also after a resume from a checkpoint taken
    elsewhere, as on a signal. Each checkpoint is ``model.zip`` (+ :data:`REPLAY_BUFFER`, and
    :data:`REPLAY_STARTS` when the training envs replay starts) and
    ``checkpoint.json`` with the step count, written last, so the newest ``checkpoint.json`` always
    names a complete pair. Unlike SB3's ``CheckpointCallback`` one checkpoint is kept (a replay
    buffer is gigabytes).

    :param save_path: folder of the checkpoint
    :param save_freq: env steps (summed over envs) between checkpoints
    :param save_replay_buffer: also save the replay buffer, so a resume keeps it
    :param config: the run config (:meth:`~sb3_mario.run.config.RunConfig.to_dict`) the model trains
        with, kept in ``checkpoint.json`` so that ``--resume`` can tell which keys were edited since
    """

    def __init__(
        self,
        save_path: str | Path,
        save_freq: int,
        save_replay_buffer: bool = False,
        config: dict[str, Any] | None = None,
        verbose: int = 0,
    ):
        super().__init__(verbose)
        if save_freq < 1:
            raise ValueError(f"save_freq must be >= 1, actual value: {save_freq}")
        self.save_path = Path(save_path)
        self.save_freq = save_freq
        self.save_replay_buffer = save_replay_buffer
        self.config = config
        self._next = save_freq

    def _on_training_start(self) -> None:
        self._next = (self.num_timesteps // self.save_freq + 1) * self.save_freq

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self.save()
            self._next = (self.num_timesteps // self.save_freq + 1) * self.save_freq
        return True

    def save(self, buffer_in_place: bool = False) -> None:
        """Write a checkpoint now.

        :param buffer_in_place: the caller has already put a replay buffer of this model's step (and its
            replayed starts) in ``save_path``, as :func:`~sb3_mario.run.training.branch` does: the
            checkpoint names it as its own
        """
        self.save_path.mkdir(parents=True, exist_ok=True)
        tmp = self.save_path / "model.tmp.zip"  # SB3 appends ".zip" to names without it
        self.model.save(tmp)
        os.replace(tmp, self.save_path / "model.zip")
        if self.save_replay_buffer:
            _atomic(self.model.save_replay_buffer, self.save_path / REPLAY_BUFFER)
            pools = replay_start_pools(self.model.get_env())
            if pools is not None:
                _atomic(lambda p: p.write_bytes(pickle.dumps(pools)), self.save_path / REPLAY_STARTS)
        steps = self.model.num_timesteps  # the model's own count: also right outside learn()
        has_buffer = self.save_replay_buffer or buffer_in_place
        meta = {"num_timesteps": steps, "replay_buffer": has_buffer, "config": self.config}
        _atomic(lambda p: p.write_text(json.dumps(meta)), self.save_path / "checkpoint.json")
        if self.verbose:
            print(f"Checkpoint at {steps} steps in {self.save_path}")


#: What ``evaluations.npz`` keeps per evaluation: SB3's keys, then the means of the Q estimate, the return and
#: the final ``x_pos``, then the wins and mean final ``x_pos`` of the model's average of weights (NaN for a
#: model without one, and for the evaluations of a history written before a key was kept).
HISTORY_KEYS = (
    "timesteps",
    "results",
    "ep_lengths",
    "successes",
    "q_estimate",
    "discounted_return",
    "mean_x_pos",
    "average_wins",
    "average_mean_x_pos",
)


class EvalCallback(BaseCallback):
    """Every ``eval_freq`` env steps, play ``n_episodes`` greedy episodes and keep the best models.

    The episodes are played by the evaluation core (:func:`~sb3_mario.run.evaluation.play_episodes`)
    on an env from :func:`~sb3_mario.run.evaluation.make_eval_env`, whose first reset takes ``seed``
    at every evaluation, so each evaluation plays the same starts (with in-turn no-op starts, every
    start once). Evaluations fall on multiples of ``eval_freq`` env steps, counted over all envs
    and across resumes. Logged as SB3's ``EvalCallback`` logs them (``eval/mean_reward``,
    ``eval/mean_ep_length``, ``eval/success_rate``), with ``eval/wins``, ``eval/mean_final_x_pos``, and
    ``eval/q_estimate`` and ``eval/discounted_return``: the mean Q-value of the actions taken and the mean
    discounted return obtained from the same states (see :class:`~sb3_mario.run.evaluation.Episode`).
    A run of several levels draws one at each evaluation episode, and logs ``eval/wins_<level>`` and
    ``eval/episodes_<level>`` for each level drawn.

    With a ``log_dir``, the history goes to ``evaluations.npz`` in SB3's format (``timesteps``,
    ``results``, ``ep_lengths``, ``successes``, plus the other :data:`HISTORY_KEYS`) and the best
    models to ``best_model.zip`` (highest mean reward, as SB3) and ``best_win_rate_model.zip`` (most
    wins, ties broken by mean reward: on Mario a model that runs far and stalls can out-score one that
    wins more often). A resumed run reads the history up to the model's step and carries on; a history
    with another number of episodes per evaluation is kept as ``evaluations-until-<step>.npz`` and a
    new one starts.

    A model that keeps an average of its weights (``DoubleDQN(average_tau > 0)``) plays the same
    episodes with it too: ``eval/average_wins``, ``eval/average_mean_final_x_pos`` and
    ``eval/average_mean_reward``; the model whose average won most (ties broken by mean final
    ``x_pos``) is kept as ``best_average_model.zip`` (``sb3-mario export --average`` makes a model of
    its average). The bar below is checked for the average as for the online network, its first model
    to meet it kept as ``average_bar_model.zip`` (its step as ``average_bar_met_at``).

    When every start is won and a ``bar_check`` is given (:meth:`~sb3_mario.run.evaluation.Bar.check`
    for the run's config), the robustness tests of the bar follow: ``eval/epsilon_success_rate`` and
    ``eval/sticky_success_rate`` are logged, the first model to meet the bar is kept as
    ``bar_model.zip`` (its step as ``bar_met_at`` in ``evaluations.npz``), and with ``stop_at_bar``
    training stops there.

    :param eval_env: the evaluation env (one env, not a vec env)
    :param n_episodes: episodes per evaluation
    :param eval_freq: env steps between evaluations
    :param log_dir: folder of the history and best models; ``None`` keeps nothing on disk
    :param seed: seed of the env's first reset at each evaluation
    :param bar_check: ``bar_check(model)`` plays the robustness tests of the bar with the online network,
        ``bar_check(model, network=model.q_net_average)`` with the average of weights
    :param stop_at_bar: stop training at the first evaluation where the online network or the average of
        weights meets the bar
    """

    def __init__(
        self,
        eval_env: gym.Env,
        n_episodes: int,
        eval_freq: int,
        log_dir: str | Path | None = None,
        seed: int | None = None,
        verbose: int = 0,
        bar_check: Callable[[Any], dict[str, Any]] | None = None,
        stop_at_bar: bool = False,
    ):
        super().__init__(verbose)
        if eval_freq < 1 or n_episodes < 1:
            raise ValueError(f"eval_freq and n_episodes must be >= 1, actual values: {eval_freq}, {n_episodes}")
        self.eval_env = eval_env
        self.n_episodes = n_episodes
        self.eval_freq = eval_freq
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.seed = seed
        self.bar_check = bar_check
        self.stop_at_bar = stop_at_bar
        self.bar_met_at: int | None = None
        self.average_bar_met_at: int | None = None
        self.history: dict[str, list[Any]] = {key: [] for key in HISTORY_KEYS}
        self.best_mean_reward = -np.inf
        self.best_win_score: tuple[float, float] = (-np.inf, -np.inf)
        self.best_average_score: tuple[float, float] = (-np.inf, -np.inf)
        self._next = eval_freq

    def _init_callback(self) -> None:
        steps = self.model.num_timesteps
        self._next = (steps // self.eval_freq + 1) * self.eval_freq
        path = None if self.log_dir is None else self.log_dir / "evaluations.npz"
        if path is None or not path.exists():
            return
        with np.load(path) as saved:
            history = {key: saved[key] for key in saved.files}
        if history["results"].shape[1:] != (self.n_episodes,):
            path.rename(path.with_name(f"evaluations-until-{int(history['timesteps'][-1])}.npz"))
            return
        if "bar_met_at" in history and int(history["bar_met_at"]) <= steps:
            self.bar_met_at = int(history["bar_met_at"])
        if "average_bar_met_at" in history and int(history["average_bar_met_at"]) <= steps:
            self.average_bar_met_at = int(history["average_bar_met_at"])
        keep = history["timesteps"] <= steps
        kept = int(keep.sum())  # NaN for each evaluation of a history from before a key was kept: one list per key
        self.history = {key: history[key][keep].tolist() if key in history else [np.nan] * kept for key in HISTORY_KEYS}
        means = [float(np.mean(rewards)) for rewards in self.history["results"]]
        self.best_mean_reward = max(means, default=-np.inf)
        if len(self.history["successes"]) == len(means):
            scores = [(float(np.mean(wins)), mean) for wins, mean in zip(self.history["successes"], means, strict=True)]
            self.best_win_score = max(scores, default=self.best_win_score)
        averages = zip(self.history["average_wins"], self.history["average_mean_x_pos"], strict=True)
        self.best_average_score = max(
            ((float(wins), float(x_pos)) for wins, x_pos in averages if not np.isnan(wins)),
            default=self.best_average_score,
        )

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next:
            return True
        while self._next <= self.num_timesteps:
            self._next += self.eval_freq
        return self.evaluate()

    def evaluate(self) -> bool:
        """Evaluate now, log, keep the history and the best models; ``False`` stops training."""
        episodes = play_episodes(self.eval_env, Player(self.model), self.n_episodes, self.seed)
        summary = summarize(episodes)
        average = self._evaluate_average()
        bars = []  # the bar's tests of each network that won every start
        if self.bar_check is not None and summary["win_rate"] == 1.0:
            bars.append(self._check_bar())
        if self.bar_check is not None and average is not None and average["win_rate"] == 1.0:
            bars.append(self._check_bar(average=True))
        for key, value in (
            ("timesteps", self.num_timesteps),
            ("results", [e.reward for e in episodes]),
            ("ep_lengths", [e.length for e in episodes]),
            ("successes", [e.win for e in episodes]),
            ("q_estimate", np.nan if summary["q_estimate"] is None else summary["q_estimate"]),
            ("discounted_return", np.nan if summary["discounted_return"] is None else summary["discounted_return"]),
            ("mean_x_pos", summary["mean_x_pos"]),
            ("average_wins", np.nan if average is None else average["wins"]),
            ("average_mean_x_pos", np.nan if average is None else average["mean_x_pos"]),
        ):
            self.history[key].append(value)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            met = {"bar_met_at": self.bar_met_at, "average_bar_met_at": self.average_bar_met_at}
            extra = {key: step for key, step in met.items() if step is not None}
            np.savez(self.log_dir / "evaluations.npz", **{k: np.array(v) for k, v in self.history.items()}, **extra)
        self.logger.record("eval/mean_reward", summary["mean_reward"])
        self.logger.record("eval/mean_ep_length", summary["mean_length"])
        self.logger.record("eval/success_rate", summary["win_rate"])
        self.logger.record("eval/wins", summary["wins"])
        self.logger.record("eval/mean_final_x_pos", summary["mean_x_pos"])
        for key in ("q_estimate", "discounted_return"):  # van Hasselt et al. (2016), Figure 3; NaN: all truncated
            self.logger.record(f"eval/{key}", self.history[key][-1])
        for level, row in (summary["per_level"] or {}).items():
            self.logger.record(f"eval/wins_{level}", row["wins"])
            self.logger.record(f"eval/episodes_{level}", row["episodes"])
        if self.verbose:
            print(
                f"Eval at {self.num_timesteps} steps: {summary['wins']}/{len(episodes)} won, "
                f"mean reward {summary['mean_reward']:.1f}, mean final x_pos {summary['mean_x_pos']:.0f}"
            )
        if summary["mean_reward"] > self.best_mean_reward:
            self.best_mean_reward = summary["mean_reward"]
            self._save("best_model")
        if (summary["win_rate"], summary["mean_reward"]) > self.best_win_score:
            self.best_win_score = (summary["win_rate"], summary["mean_reward"])
            self._save("best_win_rate_model")
        keep_going = self._on_evaluation(episodes, summary) and not (
            self.stop_at_bar and any(bar["met"] for bar in bars)
        )
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(self.num_timesteps)
        return keep_going

    def _evaluate_average(self) -> dict[str, Any] | None:
        """Play the evaluation episodes with the model's average of weights, log them and keep its best
        model; ``None`` for a model without one."""
        network = getattr(self.model, "q_net_average", None)
        if network is None:
            return None
        player = Player(self.model, network=network)
        summary = summarize(play_episodes(self.eval_env, player, self.n_episodes, self.seed))
        self.logger.record("eval/average_wins", summary["wins"])
        self.logger.record("eval/average_mean_final_x_pos", summary["mean_x_pos"])
        self.logger.record("eval/average_mean_reward", summary["mean_reward"])
        if self.verbose:
            print(f"Average of weights: {summary['wins']} won, mean final x_pos {summary['mean_x_pos']:.0f}")
        if (summary["wins"], summary["mean_x_pos"]) > self.best_average_score:
            self.best_average_score = (float(summary["wins"]), summary["mean_x_pos"])
            self._save("best_average_model")
        return summary

    def _check_bar(self, average: bool = False) -> dict[str, Any]:
        """Play the bar's robustness tests with the online network (or the average of weights), log them,
        and keep the first model that meets the bar (``bar_model.zip``, or ``average_bar_model.zip``, whose
        average met it)."""
        prefix = "average_" if average else ""
        bar = self.bar_check(self.model, network=self.model.q_net_average) if average else self.bar_check(self.model)
        self.logger.record(f"eval/{prefix}epsilon_success_rate", bar["epsilon_win_rate"])
        self.logger.record(f"eval/{prefix}sticky_success_rate", bar["sticky_win_rate"])
        if self.verbose:
            print(
                f"Bar at {self.num_timesteps} steps{', average of weights' if average else ''}: "
                f"{bar['epsilon_win_rate']:.0%} won with epsilon, {bar['sticky_win_rate']:.0%} with sticky actions"
                f"{f' (the lower of {seeds} seeds)' if (seeds := bar.get('seeds', 1)) > 1 else ''}"
                f"{': met' if bar['met'] else ''}"
            )
        if bar["met"] and getattr(self, f"{prefix}bar_met_at") is None:
            setattr(self, f"{prefix}bar_met_at", self.num_timesteps)
            self._save(f"{prefix}bar_model")
        return bar

    def _save(self, name: str) -> None:
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self.model.save(self.log_dir / name)

    def _on_evaluation(self, episodes: list[Episode], summary: dict[str, Any]) -> bool:
        """A hook for subclasses, called after each evaluation; ``False`` stops training."""
        return True


class StopTraining(BaseCallback):
    """Stop ``learn()`` cleanly on SIGINT or SIGTERM, or once ``total_timesteps`` is reached.

    SB3 collects whole ``train_freq`` rollouts and can overshoot the requested total; stopping
    here makes the final ``num_timesteps`` equal to it (rounded up to a multiple of ``n_envs``).
    The signal handlers are installed while it is used as a context manager: around ``learn()``
    and the saves after it, so that a second signal (a Ctrl-C pressed twice, a stop sent by both a
    script and its caller) arrives while the last checkpoint is written and is only recorded,
    instead of killing the process mid-save. SIGKILL still stops at once, leaving the checkpoint
    before.

    :param total_timesteps: env steps at which to stop; ``None`` leaves it to ``learn()``
    """

    def __init__(self, total_timesteps: int | None = None, verbose: int = 0):
        super().__init__(verbose)
        self.total_timesteps = total_timesteps
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            print(f"signal {signum} received again: finishing the checkpoint first", file=sys.stderr, flush=True)
        self.received = signum

    def __enter__(self) -> StopTraining:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _on_step(self) -> bool:
        reached = self.total_timesteps is not None and self.num_timesteps >= self.total_timesteps
        return self.received is None and not reached
