"""The ``sb3-mario`` command line: thin over :mod:`sb3_mario.training` and friends."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from sb3_mario.levels import ALL_LEVELS


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``sb3-mario train: error: ...`` and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0 or value != float(text):
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _level(text: str) -> str:
    if text != "random" and text not in ALL_LEVELS:
        raise argparse.ArgumentTypeError(f"unknown level {text!r}: valid levels are 1-1 .. 8-4 and 'random'")
    return text


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a DoubleDQN/DQN agent (or --resume a run)")
    p.add_argument("--algo", default="ddqn", help="ddqn (Double DQN, default) or dqn (SB3's DQN)")
    p.add_argument("--env", "--level", dest="level", type=_level, default="1-1", help="level, 1-1 .. 8-4 or random")
    p.add_argument("--preset", help="article, article_no_target or ddqn (default)")
    p.add_argument("--config", help="a hyperparams file (YAML or Python), as in zoo_configs/")
    p.add_argument("--timesteps", type=_positive_int, help="total env steps (default: the preset's n_timesteps)")
    p.add_argument("--n-envs", type=_positive_int, help="parallel envs (default: the preset's)")
    p.add_argument("--buffer-size", type=_positive_int, help="replay buffer size (default: the preset's)")
    p.add_argument("--learning-starts", type=int, help="env steps before learning (default: the preset's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--vec-env", choices=("subproc", "dummy"), default="subproc")
    p.add_argument("--run-dir", help="run folder (default: runs/<algo>-<level>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue RUN_DIR from its last checkpoint")
    p.add_argument("--eval-freq", type=int, default=50_000, help="env steps between evaluations, 0: none")
    p.add_argument(
        "--eval-episodes", type=_positive_int, default=31, help="31 (default): each of 0..30 no-op starts once"
    )
    p.add_argument("--checkpoint-freq", type=_positive_int, default=50_000, help="env steps between checkpoints")
    p.add_argument("--save-replay-buffer", action="store_true", help="checkpoints include the replay buffer")
    p.add_argument("--no-progress-bar", dest="progress_bar", action="store_false")


def _train(args: argparse.Namespace) -> int:
    from sb3_mario import training

    if args.resume:
        training.resume(args.resume, args.timesteps, progress_bar=args.progress_bar)
        return 0
    hyperparams = training.resolve_hyperparams(
        args.algo,
        args.level,
        preset=args.preset,
        config=args.config,
        n_envs=args.n_envs,
        buffer_size=args.buffer_size,
        learning_starts=args.learning_starts,
    )
    settings = training.TrainSettings(
        algo=args.algo,
        level=args.level,
        run_dir=args.run_dir or f"runs/{args.algo}-{args.level}",
        seed=args.seed,
        device=args.device,
        vec_env=args.vec_env,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
        checkpoint_freq=args.checkpoint_freq,
        save_replay_buffer=args.save_replay_buffer,
        progress_bar=args.progress_bar,
    )
    training.train(settings, hyperparams, args.timesteps)
    return 0


def _add_play_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", help="a model zip (default: the model shipped with sb3-mario)")
    p.add_argument("--env", "--level", dest="level", type=_level, default="1-1", help="level, 1-1 .. 8-4")
    p.add_argument("--action-set", default="right_only", help="right_only (default), simple or complex")
    p.add_argument("--epsilon", type=float, default=0.0, help="probability of a random action (default 0: greedy)")
    p.add_argument("--noop-max", type=int, default=0, help="start episodes with 0..N random no-op frames")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")


def _play_kwargs(args: argparse.Namespace) -> dict[str, object]:
    """The options that evaluate and record share, as keyword arguments."""
    keys = ("level", "action_set", "epsilon", "noop_max", "seed", "device")
    return {key: getattr(args, key) for key in keys}


def _model_path(args: argparse.Namespace) -> str:
    from sb3_mario.config import ConfigError
    from sb3_mario.models import SHIPPED_MODEL

    if args.model:
        return args.model
    if not SHIPPED_MODEL.is_file():
        raise ConfigError("no model given and this install ships none: pass a model zip")
    return str(SHIPPED_MODEL)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="play N episodes and report win rate, reward and progress")
    _add_play_options(p)
    p.add_argument("-n", "--episodes", type=_positive_int, help="default 10, or noop-max + 1 with --all-starts")
    p.add_argument(
        "--all-starts",
        action="store_true",
        help="start episode i with i %% (noop-max + 1) no-op frames: greedy play is deterministic, so "
        "noop-max + 1 episodes give the exact win rate under random no-op starts",
    )
    p.add_argument("-o", "--output", default="evaluation.json", help="JSON summary (default: evaluation.json)")


def _evaluate(args: argparse.Namespace) -> int:
    from sb3_mario.evaluation import evaluate, format_summary

    episodes = args.episodes or (args.noop_max + 1 if args.all_starts else 10)
    summary = evaluate(
        _model_path(args), episodes=episodes, all_starts=args.all_starts, output=args.output, **_play_kwargs(args)
    )
    print(format_summary(summary))
    print(f"written to {args.output}")
    return 0


def _add_record(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="record play as .mp4 or .gif (full-colour 256x240 frames)")
    _add_play_options(p)
    p.add_argument("-o", "--output", required=True, help="out.mp4 or out.gif")
    p.add_argument("-n", "--episodes", type=_positive_int, default=1)


def _record(args: argparse.Namespace) -> int:
    from sb3_mario.recording import record

    result = record(_model_path(args), args.output, episodes=args.episodes, **_play_kwargs(args))
    wins = sum(e.win for e in result["episodes"])
    print(f"{args.output}: {result['frames']} frames, {wins}/{len(result['episodes'])} episodes won")
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="a model zip for playing: weights without optimizer state, plus config")
    p.add_argument("source", help="a run folder (its final or last checkpointed model) or a model zip")
    p.add_argument("-o", "--output", required=True, help="the exported zip; its config goes beside it as .yaml")


def _export(args: argparse.Namespace) -> int:
    from sb3_mario.export import export_model

    for path in export_model(args.source, args.output):
        if path is not None:
            print(f"written {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _add_branch(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "branch", help="a new run that goes on from one model of a run (edit its config.yaml, then train --resume it)"
    )
    p.add_argument("source", help="the run folder the model comes from")
    p.add_argument("model", help="the model zip to go on from: a checkpoint, a best model or an export")
    p.add_argument("--run-dir", required=True, help="the new run folder")


def _branch(args: argparse.Namespace) -> int:
    from sb3_mario.training import branch

    steps = branch(args.source, args.model, args.run_dir)
    print(
        f"{args.run_dir}: a branch of {args.source} at step {steps}; edit {args.run_dir}/config.yaml if you like, "
        f"then: sb3-mario train --resume {args.run_dir}"
    )
    return 0


def _add_plot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="average reward and win %% per block of episodes, for one or more runs")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("-o", "--output", default="training.png")
    p.add_argument("--block", type=_positive_int, default=500, help="episodes per point (500 as in the tutorial)")
    p.add_argument("--last", type=_positive_int, default=100, help="episodes of the final win %% in the table")


def _plot(args: argparse.Namespace) -> int:
    from sb3_mario.plotting import plot_runs, summary_markdown

    plot_runs(args.run_dirs, args.output, args.block)
    print(summary_markdown(args.run_dirs, args.last))
    print(f"written to {args.output}")
    return 0


def _add_tune(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="Optuna study over gamma, learning rate and exploration")
    p.add_argument("--study-name", default="sb3-mario")
    p.add_argument(
        "--storage",
        default="sqlite:///sb3-mario-optuna.db",
        help="SQLAlchemy URL or journal file (*.log); workers on the same storage share the study",
    )
    p.add_argument("--n-trials", type=int, default=10, help="trials this worker runs")
    p.add_argument("--timeout", type=float, help="seconds after which this worker starts no new trial")
    p.add_argument("--sampler", default="tpe", help="tpe (default) or random")
    p.add_argument("--pruner", default="median", help="median (default), halving or none")
    p.add_argument("--algo", default="ddqn", help="ddqn (default) or dqn")
    p.add_argument("--env", "--level", dest="level", type=_level, default="1-1")
    p.add_argument("--preset", default="ddqn", help="hyperparams the sampled values override")
    p.add_argument("--trial-timesteps", type=_positive_int, default=100_000)
    p.add_argument("--n-evaluations", type=_positive_int, default=4, help="evaluations (and pruning points) per trial")
    p.add_argument("--eval-episodes", type=_positive_int, default=5)
    p.add_argument("--buffer-size", type=_positive_int, help="override the preset's replay buffer size")
    p.add_argument("--learning-starts", type=int, help="override the preset's learning_starts")
    p.add_argument("--full-space", action="store_true", help="also search target update interval and train freq")
    p.add_argument("--seed", type=int, default=0, help="seed of each trial's model and envs")
    p.add_argument("--sampler-seed", type=int, help="seed of the sampler; give each worker its own (default: random)")
    p.add_argument("--device", default="auto")
    p.add_argument("--heartbeat-interval", type=_positive_int, default=60, help="seconds (RDB storages)")
    p.add_argument(
        "--grace-period", type=_positive_int, default=120, help="seconds without heartbeat before a trial fails"
    )
    p.add_argument("-o", "--output-dir", default="tuning-results", help="best config, summary and plots")


def _tune(args: argparse.Namespace) -> int:
    from sb3_mario.config import get_algo
    from sb3_mario.presets import get_preset
    from sb3_mario.tuning.objective import TuneSettings
    from sb3_mario.tuning.study import run_study, summary_table, write_outputs

    get_algo(args.algo)
    get_preset(args.preset)
    overrides = {
        k: v for k, v in (("buffer_size", args.buffer_size), ("learning_starts", args.learning_starts)) if v is not None
    }
    settings = TuneSettings(
        algo=args.algo,
        level=args.level,
        base_preset=args.preset,
        trial_timesteps=args.trial_timesteps,
        n_evaluations=args.n_evaluations,
        eval_episodes=args.eval_episodes,
        seed=args.seed,
        device=args.device,
        full_space=args.full_space,
        overrides=overrides,
    )
    study = run_study(
        settings,
        args.study_name,
        args.storage,
        args.n_trials,
        args.timeout,
        args.sampler,
        args.pruner,
        args.heartbeat_interval,
        args.grace_period,
        args.sampler_seed,
    )
    print(summary_table(study))
    for path in write_outputs(study, settings, args.output_dir):
        print(f"written {path}")
    print("browse the study live with: optuna-dashboard " + args.storage)
    return 0


def _add_zoo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "zoo",
        help="run rl_zoo3's train, enjoy or record_video with --algo double_dqn available",
        description="Arguments after SCRIPT go to rl_zoo3 unchanged, e.g. "
        "sb3-mario zoo train --algo double_dqn --env sb3_mario/SuperMarioBros-1-1-v0 -conf zoo_configs/double_dqn.py",
    )
    p.add_argument("script", choices=("train", "enjoy", "record_video"))
    p.add_argument("args", nargs=argparse.REMAINDER)


def _zoo(args: argparse.Namespace) -> int:
    from sb3_mario import zoo

    return zoo.run(args.script, args.args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sb3-mario", description="Super Mario Bros with Stable-Baselines3.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in (_add_train, _add_evaluate, _add_record, _add_export, _add_branch, _add_plot, _add_tune, _add_zoo):
        add(sub)
    return parser


COMMANDS = {
    "train": _train,
    "evaluate": _evaluate,
    "record": _record,
    "export": _export,
    "branch": _branch,
    "plot": _plot,
    "tune": _tune,
    "zoo": _zoo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sb3-mario`` and ``python -m sb3_mario``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from sb3_mario.config import ConfigError

    try:
        return COMMANDS[args.command](args)
    except (ConfigError, ValueError, FileNotFoundError) as e:
        print(f"sb3-mario {args.command}: error: {e}", file=sys.stderr)
        return 2
