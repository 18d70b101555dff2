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
    p.add_argument("--eval-episodes", type=_positive_int, default=10)
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
    p.add_argument("-n", "--episodes", type=_positive_int, default=10)
    p.add_argument("-o", "--output", default="evaluation.json", help="JSON summary (default: evaluation.json)")


def _evaluate(args: argparse.Namespace) -> int:
    from sb3_mario.evaluation import evaluate, format_summary

    summary = evaluate(
        _model_path(args), args.level, args.episodes, args.epsilon, args.noop_max, args.seed, args.device,
        args.action_set, args.output,
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

    result = record(
        _model_path(args), args.output, args.level, args.episodes, args.epsilon, args.noop_max, args.seed,
        args.device, args.action_set,
    )
    wins = sum(e.win for e in result["episodes"])
    print(f"{args.output}: {result['frames']} frames, {wins}/{len(result['episodes'])} episodes won")
    return 0


def _add_plot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="average reward and win %% per block of episodes, for one or more runs")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("-o", "--output", default="training.png")
    p.add_argument("--block", type=_positive_int, default=500, help="episodes per point (500 as in the tutorial)")


def _plot(args: argparse.Namespace) -> int:
    from sb3_mario.plotting import plot_runs

    plot_runs(args.run_dirs, args.output, args.block)
    print(f"written to {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sb3-mario", description="Super Mario Bros with Stable-Baselines3.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in (_add_train, _add_evaluate, _add_record, _add_plot):
        add(sub)
    return parser


COMMANDS = {"train": _train, "evaluate": _evaluate, "record": _record, "plot": _plot}


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
