"""The ``sb3-mario`` command line: thin over :mod:`sb3_mario.run` and :mod:`sb3_mario.tuning`.

Options named after a settings field (:class:`~sb3_mario.run.config.RunSettings`,
:class:`~sb3_mario.run.evaluation.PlaySettings`, :class:`~sb3_mario.tuning.settings.TuneSettings`)
are made from it: the field's type, help text and default are written once, there.
"""

from __future__ import annotations

import argparse
import os
import sys
import typing
from collections.abc import Sequence
from dataclasses import MISSING, fields
from typing import Any, NoReturn

import yaml

from sb3_mario.env.levels import level_names
from sb3_mario.errors import ConfigError

#: Extra spellings of generated options.
ALIASES = {"level": ["--env"], "episodes": ["-n"], "output_dir": ["-o"]}


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
    try:
        level_names(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _key_value(text: str) -> tuple[str, Any]:
    """``KEY:VALUE`` with a YAML value (rl_zoo3's ``--hyperparams``, never evaluated)."""
    key, sep, raw = text.partition(":")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY:VALUE, got {text!r}")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"the value of {key} is not YAML: {raw!r}") from None
    if isinstance(value, str):  # YAML 1.1 reads 1e-4 as a string
        try:
            value = float(value)
        except ValueError:
            pass
    return key, value


def add_fields(parser: argparse.ArgumentParser, cls: type, only: Sequence[str] | None = None) -> None:
    """Add ``--<field>`` options for the fields of a settings dataclass, defaulting to ``None`` (unset),
    with the field's help and default in the help text."""
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        if only is not None and f.name not in only:
            continue
        kind = next((t for t in typing.get_args(hints[f.name]) or (hints[f.name],) if t is not type(None)), str)
        default = None if f.default is MISSING else f.default
        help_text = f"{f.metadata.get('help', '')} (default: {default})".strip()
        flags = [f"--{f.name.replace('_', '-')}", *ALIASES.get(f.name, [])]
        if kind is bool:
            parser.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction, help=help_text)
        else:
            kind = _level if f.name == "level" else kind
            parser.add_argument(*flags, dest=f.name, type=kind, choices=f.metadata.get("choices"), help=help_text)


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` given on the command line."""
    return {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}


def _add_config_options(p: argparse.ArgumentParser) -> None:
    """Where a run's hyperparams come from, and overrides of them."""
    p.add_argument("--preset", help="article, article_no_target or ddqn (default)")
    p.add_argument("--config", help="a hyperparams file (YAML or Python), as in zoo_configs/")
    p.add_argument("--n-envs", type=_positive_int, help="parallel envs (default: the preset's)")
    p.add_argument("--buffer-size", type=_positive_int, help="replay buffer size (default: the preset's)")
    p.add_argument("--learning-starts", type=int, help="env steps before learning (default: the preset's)")
    p.add_argument(
        "--hyperparams",
        "-params",
        nargs="+",
        type=_key_value,
        default=[],
        metavar="KEY:VALUE",
        help="override hyperparameters, e.g. learning_rate:1e-4 'env_kwargs:{noop_max: 30}' (YAML values)",
    )


def _hyperparam_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides = {"n_envs": args.n_envs, "buffer_size": args.buffer_size, "learning_starts": args.learning_starts}
    overrides.update(dict(args.hyperparams))
    if getattr(args, "timesteps", None) is not None:
        overrides["n_timesteps"] = args.timesteps
    return overrides


def _add_train(sub: argparse._SubParsersAction) -> None:
    from sb3_mario.run.config import RunSettings

    p = sub.add_parser("train", help="train a DoubleDQN/DQN agent (or --resume a run)")
    _add_config_options(p)
    p.add_argument("--timesteps", type=_positive_int, help="total env steps (default: the preset's n_timesteps)")
    add_fields(p, RunSettings)
    p.add_argument("--run-dir", help="run folder (default: runs/<algo>-<level>)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue RUN_DIR from its last checkpoint with its config.yaml")
    p.add_argument("--no-progress-bar", dest="progress_bar", action="store_false")


def _train(args: argparse.Namespace) -> int:
    from sb3_mario.run import training
    from sb3_mario.run.config import RunSettings, resolve
    from sb3_mario.run.threads import set_torch_threads

    set_torch_threads("learn")
    settings = given(args, RunSettings)
    if args.resume:
        if args.preset or args.config or args.run_dir:
            raise ConfigError("--resume continues a run with its config.yaml: edit that instead of --preset/--config")
        training.resume(args.resume, _hyperparam_overrides(args), settings, progress_bar=args.progress_bar)
        return 0
    config = resolve(args.preset, args.config, _hyperparam_overrides(args), settings)
    run_dir = args.run_dir or f"runs/{config.settings.algo}-{config.settings.level}"
    training.train(config, run_dir, progress_bar=args.progress_bar)
    return 0


def _add_play_options(p: argparse.ArgumentParser) -> None:
    from sb3_mario.run.evaluation import PlaySettings

    p.add_argument(
        "model", nargs="?", help="a model zip or run folder (default: the shipped model of --level, 1-1 by default)"
    )
    add_fields(p, PlaySettings)
    _add_progress_option(p)


def _add_progress_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-progress-bar",
        dest="progress_bar",
        action="store_false",
        help="no progress: neither the bar shown on a terminal nor the line per step shown elsewhere",
    )


def _episode_progress(args: argparse.Namespace, total: int) -> tuple[Any, Any]:
    """A progress display of played episodes with the running win rate, and its ``on_episode`` hook."""
    from sb3_mario.run.progress import Progress

    progress = Progress(total, "episode", enabled=args.progress_bar)
    wins = []

    def on_episode(episode: Any) -> None:
        wins.append(episode.win)
        outcome = "won" if episode.win else f"lost at x_pos {episode.x_pos}"
        progress.update(f"{outcome}; {sum(wins)}/{len(wins)} won ({100 * sum(wins) / len(wins):.0f} %)")

    return progress, on_episode


def _play_settings(args: argparse.Namespace, episodes: int | None = None) -> Any:
    from sb3_mario.run.evaluation import PlaySettings

    values = given(args, PlaySettings)
    if episodes is not None:
        values.setdefault("episodes", episodes)
    return PlaySettings(**values)


def _model_path(args: argparse.Namespace) -> str:
    """The model given, else the shipped model of ``--level`` (1-1 by default)."""
    from sb3_mario.models import shipped_model

    if args.model:
        return args.model
    return str(shipped_model(args.level))


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="play N episodes and report win rate, reward and progress")
    _add_play_options(p)
    p.add_argument("-o", "--output", default="evaluation.json", help="JSON summary (default: evaluation.json)")


def _evaluate(args: argparse.Namespace) -> int:
    from sb3_mario.run.evaluation import count_starts, evaluate, format_summary, model_config
    from sb3_mario.run.threads import set_torch_threads

    set_torch_threads("act")
    all_starts_episodes = None
    if args.all_starts and args.noop_max:  # every start of every level the model plays, once
        level = args.level or model_config(_model_path(args)).settings.level
        all_starts_episodes = count_starts(level, args.noop_max)
    play = _play_settings(args, all_starts_episodes)
    progress, on_episode = _episode_progress(args, play.episodes)
    try:
        summary = evaluate(_model_path(args), play, output=args.output, on_episode=on_episode)
    finally:
        progress.close()
    print(format_summary(summary))
    print(f"written to {args.output}")
    return 0


def _add_record(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="record play as .mp4 or .gif (full-colour 256x240 frames)")
    _add_play_options(p)
    p.add_argument("-o", "--output", required=True, help="out.mp4 or out.gif")


def _record(args: argparse.Namespace) -> int:
    from sb3_mario.run.recording import EPISODES, record
    from sb3_mario.run.threads import set_torch_threads

    set_torch_threads("act")
    play = _play_settings(args, EPISODES)
    progress, on_episode = _episode_progress(args, play.episodes)
    try:
        result = record(_model_path(args), args.output, play, on_episode=on_episode)
    finally:
        progress.close()
    wins = sum(e.win for e in result["episodes"])
    print(f"{args.output}: {result['frames']} frames, {wins}/{len(result['episodes'])} episodes won")
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="a model zip for playing: weights without optimizer state, plus config")
    p.add_argument("source", help="a run folder (its final or last checkpointed model) or a model zip")
    p.add_argument("-o", "--output", required=True, help="the exported zip; its config goes beside it as .yaml")
    p.add_argument(
        "--average",
        action="store_true",
        help="export the model's moving average of weights (trained with average_tau > 0) as its network",
    )


def _export(args: argparse.Namespace) -> int:
    from sb3_mario.run.export import export_model

    for path in export_model(args.source, args.output, average=args.average):
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
    from sb3_mario.run.training import branch

    steps = branch(args.source, args.model, args.run_dir)
    print(
        f"{args.run_dir}: a branch of {args.source} at step {steps}; edit {args.run_dir}/config.yaml if you like, "
        f"then: sb3-mario train --resume {args.run_dir}"
    )
    return 0


def _add_plot(sub: argparse._SubParsersAction) -> None:
    from sb3_mario.run.plotting import AGAINST

    p = sub.add_parser("plot", help="training curves, greedy evaluations and a table of figures, for one or more runs")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("-o", "--output", default="training.png")
    p.add_argument("--block", type=_positive_int, default=500, help="episodes per point (500 as in the tutorial)")
    p.add_argument("--last", type=_positive_int, default=100, help="episodes of the final win %% in the table")
    p.add_argument(
        "--against",
        choices=AGAINST,
        default="episodes",
        help="x axis of the training curves: episodes (as the tutorial) or env steps (default: episodes)",
    )
    p.add_argument(
        "--until",
        type=_positive_int,
        default=None,
        metavar="STEPS",
        help="compare at a fixed budget: each run's episodes and evaluations up to this env step "
        "(final-model tests only of runs that ended by then)",
    )
    p.add_argument(
        "--x-pos",
        action="store_true",
        help="one more panel: the mean final x_pos of each greedy evaluation (how far runs that do not win yet get)",
    )


def _plot(args: argparse.Namespace) -> int:
    from sb3_mario.run.plotting import plot_runs, summary_markdown

    plot_runs(args.run_dirs, args.output, args.block, args.against, args.until, args.x_pos)
    print(summary_markdown(args.run_dirs, args.last, args.until))
    print(f"written to {args.output}")
    return 0


def _add_tune(sub: argparse._SubParsersAction) -> None:
    from sb3_mario.run.config import RunSettings
    from sb3_mario.tuning.settings import TuneSettings

    p = sub.add_parser("tune", help="Optuna study over gamma, learning rate and exploration")
    _add_config_options(p)
    add_fields(p, RunSettings, only=("algo", "level", "seed", "device", "eval_episodes", "eval_noop_max"))
    add_fields(p, TuneSettings)
    _add_progress_option(p)


def _tune(args: argparse.Namespace) -> int:
    from sb3_mario.run.config import RunSettings, resolve
    from sb3_mario.run.threads import set_torch_threads
    from sb3_mario.tuning.settings import TuneSettings
    from sb3_mario.tuning.study import run_study, summary_table, write_outputs

    set_torch_threads("act")  # one core per worker: a trial acts and learns in one process
    base = resolve(args.preset, args.config, _hyperparam_overrides(args), given(args, RunSettings))
    tune = TuneSettings(**given(args, TuneSettings))
    study = run_study(base, tune, progress_bar=args.progress_bar)
    print(summary_table(study))
    for path in write_outputs(study, base, tune):
        print(f"written {path}")
    print("browse the study live with: optuna-dashboard " + tune.storage)
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


COMMANDS = {
    "train": (_add_train, _train),
    "evaluate": (_add_evaluate, _evaluate),
    "record": (_add_record, _record),
    "export": (_add_export, _export),
    "branch": (_add_branch, _branch),
    "plot": (_add_plot, _plot),
    "tune": (_add_tune, _tune),
    "zoo": (_add_zoo, _zoo),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sb3-mario", description="Super Mario Bros with Stable-Baselines3.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sb3-mario`` and ``python -m sb3_mario``."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][1](args)
    except (ConfigError, ValueError, FileNotFoundError) as e:
        print(f"sb3-mario {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of stdout left (`sb3-mario evaluate | head`): end quietly, as Python's docs do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return 1
