"""Runs compared: the tutorial's Figure 1 (average reward and win % per block of episodes), the greedy
evaluations, the Q estimates, and a table of each run's figures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from sb3_mario.errors import ConfigError
from sb3_mario.run.episodes import from_start, read_episodes, wall_times


def block_means(values: list[float], block: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of consecutive blocks of ``block`` values (a last partial block included) and the
    episode count at the end of each block."""
    x = np.asarray(values, dtype=float)
    starts = np.arange(0, len(x), block)
    ends = np.minimum(starts + block, len(x))
    return ends, np.array([x[s:e].mean() for s, e in zip(starts, ends, strict=True)])


def read_evaluations(run_dir: str | Path, until: int | None = None) -> dict[str, np.ndarray] | None:
    """A run's ``eval/evaluations.npz`` (:data:`~sb3_mario.run.callbacks.HISTORY_KEYS`, and
    ``bar_met_at`` and ``average_bar_met_at`` once the bar was met) as arrays; ``None`` for a run without
    evaluations. With ``until``, only the evaluations at or before that env step (and the bar only if
    met by then)."""
    path = Path(run_dir) / "eval" / "evaluations.npz"
    if not path.is_file():
        return None
    with np.load(path) as saved:
        evaluations = {key: saved[key] for key in saved.files}
    if until is None:
        return evaluations
    kept = evaluations["timesteps"] <= until
    for key, value in list(evaluations.items()):
        if key.endswith("bar_met_at"):
            if int(value) > until:
                del evaluations[key]
        elif value.ndim and len(value) == len(kept):
            evaluations[key] = value[kept]
    return evaluations


def episodes_until(rows: list[dict[str, str]], until: int | None) -> list[dict[str, str]]:
    """The episodes (``episodes.csv`` rows) that ended by env step ``until``; all of them for ``None``."""
    return rows if until is None else [row for row in rows if int(row["timestep"]) <= until]


#: The bar's tests of a run's final model that ``scripts/seeds.sh`` writes to its ``eval/`` folder
#: (``sb3-mario evaluate -o``), and the key of each in :func:`summarize_run`; then the same tests of the
#: final model's average of weights (``evaluate --average``), for a run that keeps one.
FINAL_TESTS = {
    "epsilon-0.02.json": "final_epsilon_wins",
    "sticky-0.25.json": "final_sticky_wins",
    "average-epsilon-0.02.json": "final_average_epsilon_wins",
    "average-sticky-0.25.json": "final_average_sticky_wins",
}


def read_final_tests(run_dir: str | Path, played: bool = True) -> dict[str, tuple[int, int, float] | None]:
    """Wins, episodes and mean final ``x_pos`` of each of :data:`FINAL_TESTS` found in the run's
    ``eval/`` folder (else ``None``, and all ``None`` when not ``played``: the final model is not the
    one compared): how far the final model gets tells configurations apart even where none wins."""
    tests: dict[str, tuple[int, int, float] | None] = {}
    for name, key in FINAL_TESTS.items():
        path = Path(run_dir) / "eval" / name
        s = json.loads(path.read_text()) if played and path.is_file() else None
        tests[key] = None if s is None else (int(s["wins"]), int(s["episodes"]), float(s["mean_x_pos"]))
    return tests


def _hours_at(rows: list[dict[str, str]], times: list[float], step: int) -> float:
    """Hours of training when the run reached ``step``: the wall time of the first episode that
    ended there or later (the last episode's when none did, as when training stopped there)."""
    index = next((i for i, row in enumerate(rows) if int(row["timestep"]) >= step), len(rows) - 1)
    return times[index] / 3600


#: The figures :func:`summarize_run` takes from the greedy evaluations: ``None`` for a run without them.
_EVALUATION_KEYS = (
    "eval_episodes",
    "last_eval_wins",
    "last_eval_x_pos",
    "best_eval_wins",
    "best_eval_step",
    "all_won_step",
    "bar_step",
    "bar_hours",
    "last_average_wins",
    "last_average_x_pos",
    "best_average_wins",
    "best_average_step",
    "average_bar_step",
    "average_bar_hours",
)


def summarize_run(run_dir: str | Path, last: int = 100, until: int | None = None) -> dict[str, Any]:
    """The comparison's figures for one run, from its ``episodes.csv`` and evaluations; with ``until``,
    from the episodes and evaluations up to that env step only (runs of different budgets compared at
    one), and the final model's tests only for a run that ended by then.

    :return: ``run`` (the folder's name), ``episodes``, ``steps`` (env steps at the end of the last
        episode), ``hours`` (of training, :func:`~sb3_mario.run.episodes.wall_times`),
        ``steps_to_first_win`` and ``win_pct_last_<last>`` (training episodes from the game's start,
        :func:`~sb3_mario.run.episodes.from_start`; ``None`` when there is none); from the greedy
        evaluations, when the run has them (else ``None``): ``eval_episodes``, ``last_eval_wins``,
        ``last_eval_x_pos`` (its mean final x_pos, ``None`` when not kept), ``best_eval_wins`` and
        ``best_eval_step`` (the first evaluation with that many),
        ``all_won_step`` (the first that won every episode), and ``bar_step`` and ``bar_hours``
        (the first evaluation that met the bar, :class:`~sb3_mario.run.evaluation.Bar`);
        ``last_average_wins``, ``last_average_x_pos``, ``best_average_wins``, ``best_average_step``,
        ``average_bar_step`` and ``average_bar_hours``: the same of the average of weights
        (``average_tau``), ``None`` for a run without one; and
        ``final_epsilon_wins``, ``final_sticky_wins``, ``final_average_epsilon_wins`` and
        ``final_average_sticky_wins``: (wins, episodes, mean final x_pos) of the final model's tests and its
        average's (:func:`read_final_tests`), ``None`` when not played
    """
    every_row = read_episodes(Path(run_dir) / "episodes.csv")
    rows = episodes_until(every_row, until)
    if not rows:
        raise ConfigError(f"{run_dir} has no episodes{_by(until)}")
    times = wall_times(rows)
    started = from_start(rows)  # wins count from the game's start, as in evaluations
    first_win = next((int(r["timestep"]) for r in started if r["win"] == "1"), None)
    tail = started[-last:]
    summary: dict[str, Any] = {
        "run": Path(run_dir).name,
        "episodes": len(rows),
        "steps": int(rows[-1]["timestep"]),
        "hours": times[-1] / 3600,
        "steps_to_first_win": first_win,
        f"win_pct_last_{last}": 100.0 * sum(r["win"] == "1" for r in tail) / len(tail) if tail else None,
        **dict.fromkeys(_EVALUATION_KEYS),
        **read_final_tests(run_dir, played=len(rows) == len(every_row)),
    }
    evaluations = read_evaluations(run_dir, until)
    if evaluations is None or "successes" not in evaluations or not len(evaluations["timesteps"]):
        return summary
    steps = [int(step) for step in evaluations["timesteps"]]
    wins = [int(np.sum(won)) for won in evaluations["successes"]]
    n_episodes = int(evaluations["successes"].shape[1])
    best = int(np.argmax(wins))  # the first of the most
    summary.update(
        eval_episodes=n_episodes,
        last_eval_wins=wins[-1],
        last_eval_x_pos=_finite(evaluations["mean_x_pos"][-1]) if "mean_x_pos" in evaluations else None,
        best_eval_wins=wins[best],
        best_eval_step=steps[best],
        all_won_step=next((step for step, won in zip(steps, wins, strict=True) if won == n_episodes), None),
    )
    average = evaluations.get("average_wins", np.array([]))
    if len(average) and np.isfinite(average).any():  # NaN: evaluations of a model without an average
        kept = np.nan_to_num(average, nan=-1.0)
        best = int(np.argmax(kept))
        summary.update(
            last_average_wins=_int(average[-1]),
            last_average_x_pos=_finite(evaluations["average_mean_x_pos"][-1]),
            best_average_wins=int(kept[best]),
            best_average_step=steps[best],
        )
    for prefix in ("", "average_"):
        if f"{prefix}bar_met_at" in evaluations:
            summary[f"{prefix}bar_step"] = step = int(evaluations[f"{prefix}bar_met_at"])
            summary[f"{prefix}bar_hours"] = _hours_at(rows, times, step)
    return summary


def _by(until: int | None) -> str:
    return "" if until is None else f" by env step {until:,}"


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _int(value: float) -> int | None:
    return int(value) if np.isfinite(value) else None


def _steps(step: int | None) -> str:
    return "-" if step is None else f"{step:,}"


def summary_markdown(run_dirs: list[str | Path], last: int = 100, until: int | None = None) -> str:
    """:func:`summarize_run` of each run (up to env step ``until``, when given) as a Markdown table."""
    lines = [
        f"| run | episodes | env steps | hours | env steps to first win | win % (last {last} episodes) "
        "| greedy wins, last evaluation | most greedy wins (at env steps) | every start won at | bar met at (hours) "
        "| final model: wins (mean final x_pos) with epsilon 0.02 | with sticky actions 0.25 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run_dir in run_dirs:
        s = summarize_run(run_dir, last, until)
        cells = [s["run"], f"{s['episodes']:,}", f"{s['steps']:,}", f"{s['hours']:.2f}"]
        win_pct = s[f"win_pct_last_{last}"]
        cells += [_steps(s["steps_to_first_win"]), "-" if win_pct is None else f"{win_pct:.1f}"]
        if s["eval_episodes"] is None:
            cells += ["-"] * 4
        else:
            of = f"/{s['eval_episodes']}"
            x_pos = "" if s["last_eval_x_pos"] is None else f" (x_pos {s['last_eval_x_pos']:,.0f})"
            latest, most = f"{s['last_eval_wins']}{of}{x_pos}", f"{s['best_eval_wins']}{of} ({s['best_eval_step']:,})"
            if s["best_average_wins"] is not None:  # the average of weights, beside the online network
                wins = "-" if s["last_average_wins"] is None else f"{s['last_average_wins']}{of}"
                x_pos = "" if s["last_average_x_pos"] is None else f" (x_pos {s['last_average_x_pos']:,.0f})"
                latest += f"; average {wins}{x_pos}"
                most += f"; average {s['best_average_wins']}{of} ({s['best_average_step']:,})"
            cells += [latest, most]
            cells += [_steps(s["all_won_step"])]
            bar = "-" if s["bar_step"] is None else f"{s['bar_step']:,} ({s['bar_hours']:.2f})"
            if s["best_average_wins"] is not None:
                step = s["average_bar_step"]
                bar += "; average " + ("-" if step is None else f"{step:,} ({s['average_bar_hours']:.2f})")
            cells.append(bar)
        for test in ("epsilon", "sticky"):  # the final model's test, then its average's, when played
            online, average = s[f"final_{test}_wins"], s[f"final_average_{test}_wins"]
            cell = "-" if online is None else "{}/{} (x_pos {:,.0f})".format(*online)
            cells.append(cell if average is None else cell + "; average {}/{} (x_pos {:,.0f})".format(*average))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


_SEED_SUFFIX = re.compile(r"^(?P<config>.+)-s(?P<seed>\d+)$")
_LINESTYLES = ("-", "--", ":", "-.")
#: Markers of the Q panel, one per seed (line styles there tell the estimate from the return).
_MARKERS = ("o", "s", "^", "D")


def env_steps_label(steps: float, _position: object = None) -> str:
    """An env-step tick as ``0``, ``250k`` or ``1.5M`` (matplotlib's formatter signature)."""
    if steps >= 1_000_000:
        return f"{steps / 1_000_000:g}M"
    return f"{steps / 1000:g}k" if steps else "0"


def run_styles(names: list[str]) -> list[tuple[int, str]]:
    """(colour index, line style) of each run: one colour per configuration, one line style per seed.

    Runs named ``<config>-s<seed>`` (as ``scripts/seeds.sh`` names them) share the colour of
    their configuration and take one line style per seed; any other name is a configuration of its own,
    drawn solid.
    """
    configs: dict[str, int] = {}
    seeds: dict[str, int] = {}
    styles = []
    for name in names:
        match = _SEED_SUFFIX.match(name)
        if match is None:  # a configuration of its own, solid
            styles.append((configs.setdefault(name, len(configs)), _LINESTYLES[0]))
            continue
        colour = configs.setdefault(match["config"], len(configs))
        styles.append((colour, _LINESTYLES[seeds.setdefault(match["seed"], len(seeds)) % len(_LINESTYLES)]))
    return styles


def read_estimates(run_dir: str | Path, until: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Env steps, mean Q estimate and mean discounted return of a run's evaluations (from
    ``eval/evaluations.npz``, up to env step ``until`` when given); ``None`` for a run without them."""
    evaluations = read_evaluations(run_dir, until)
    if evaluations is None or "q_estimate" not in evaluations:
        return None
    return evaluations["timesteps"], evaluations["q_estimate"], evaluations["discounted_return"]


def read_greedy_wins(run_dir: str | Path, until: int | None = None) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Env steps and wins of each of a run's greedy evaluations (up to env step ``until`` when given),
    and the episodes each played; ``None`` for a run without them."""
    evaluations = read_evaluations(run_dir, until)
    if evaluations is None or "successes" not in evaluations or not len(evaluations["timesteps"]):
        return None
    successes = evaluations["successes"]
    return evaluations["timesteps"], successes.sum(axis=1), int(successes.shape[1])


def read_average_wins(run_dir: str | Path, until: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Env steps and wins of the evaluations that played a run's average of weights (``average_tau``),
    up to env step ``until`` when given; ``None`` for a run without any."""
    evaluations = read_evaluations(run_dir, until)
    if evaluations is None or "average_wins" not in evaluations:
        return None
    played = np.isfinite(evaluations["average_wins"])
    if not played.any():
        return None
    return evaluations["timesteps"][played], evaluations["average_wins"][played]


def read_greedy_x_pos(run_dir: str | Path, until: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Env steps and mean final ``x_pos`` of each of a run's greedy evaluations (up to env step ``until``
    when given); ``None`` for a run without them."""
    evaluations = read_evaluations(run_dir, until)
    if evaluations is None or "mean_x_pos" not in evaluations or not len(evaluations["timesteps"]):
        return None
    return evaluations["timesteps"], evaluations["mean_x_pos"]


#: What the training curves of :func:`plot_runs` can be drawn against.
AGAINST = ("episodes", "steps")


def plot_runs(
    run_dirs: list[str | Path],
    output: str | Path,
    block: int = 500,
    against: str = "episodes",
    until: int | None = None,
    x_pos: bool = False,
) -> object:
    """Plot average reward and win % per ``block`` training episodes, one line per run (coloured by
    configuration, styled by seed: :func:`run_styles`), against episodes (as the tutorial's Figure 1)
    or env steps (``against="steps"``: each block at the env step its last episode ended). When runs
    have evaluations, a panel draws the wins of each greedy evaluation against env steps (dotted, with
    crosses: those of the run's average of weights, where it keeps one), and one the
    mean Q estimate (solid) against the discounted return obtained (dashed, hollow markers), as van
    Hasselt et al. (2016), Figure 3, one marker shape per seed. With ``x_pos``, one more panel draws the
    mean final ``x_pos`` of each greedy evaluation against env steps: how far runs that do not win yet
    get. Env-step axes read in k and M. With ``until``, each run's episodes and evaluations up to that
    env step only.

    :return: the matplotlib figure (also written to ``output`` as PNG)
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if block < 1:
        raise ConfigError(f"block must be >= 1, actual value: {block}")
    if against not in AGAINST:
        raise ConfigError(f"unknown x axis {against!r}: valid values are {', '.join(AGAINST)}")
    greedy = [read_greedy_wins(run_dir, until) for run_dir in run_dirs]
    estimates = [read_estimates(run_dir, until) for run_dir in run_dirs]
    reached = [read_greedy_x_pos(run_dir, until) if x_pos else None for run_dir in run_dirs]
    panels = 2 + sum(any(p is not None for p in panel) for panel in (greedy, reached, estimates))
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4))
    ax_reward, ax_win = axes[0], axes[1]
    names = [Path(run_dir).name for run_dir in run_dirs]
    styles = run_styles(names)
    for run_dir, label, (colour, linestyle) in zip(run_dirs, names, styles, strict=True):
        rows = read_episodes(Path(run_dir) / "episodes.csv")
        rows = from_start(episodes_until(rows, until))  # from the game's start: comparable between runs
        if not rows:
            raise ConfigError(f"{run_dir} has no episodes from the game's start{_by(until)}")
        ends, rewards = block_means([float(r["reward"]) for r in rows], block)
        _, wins = block_means([100.0 * int(r["win"]) for r in rows], block)
        x = ends if against == "episodes" else np.array([int(rows[end - 1]["timestep"]) for end in ends])
        style = {"color": f"C{colour % 10}", "linestyle": linestyle, "marker": "o", "markersize": 3, "label": label}
        ax_reward.plot(x, rewards, **style)
        ax_win.plot(x, wins, **style)
    xlabel = "episode" if against == "episodes" else "env steps"
    ax_reward.set(title=f"Average reward per {block} episodes", xlabel=xlabel, ylabel="reward")
    ax_win.set(title=f"Win % per {block} episodes", xlabel=xlabel, ylabel="win %", ylim=(-2, 102))
    extra = iter(axes[2:])
    if any(g is not None for g in greedy):
        ax_greedy = next(extra)
        sizes = {g[2] for g in greedy if g is not None}
        for label, (colour, linestyle), wins_of_run in zip(names, styles, greedy, strict=True):
            if wins_of_run is not None:
                steps, won, _ = wins_of_run
                ax_greedy.plot(
                    steps, won, color=f"C{colour % 10}", linestyle=linestyle, marker="o", markersize=3, label=label
                )
        for run_dir, label, (colour, _) in zip(run_dirs, names, styles, strict=True):
            average = read_average_wins(run_dir, until)
            if average is not None:
                ax_greedy.plot(*average, color=f"C{colour % 10}", linestyle=":", marker="x", label=f"{label} average")
        top = max(sizes)
        of = f" of {top}" if len(sizes) == 1 else ""
        ax_greedy.set(
            title=f"Greedy wins per evaluation{of}", xlabel="env steps", ylabel="wins", ylim=(-0.02 * top, 1.02 * top)
        )
    if any(r is not None for r in reached):
        ax_x = next(extra)
        for label, (colour, linestyle), x_pos_of_run in zip(names, styles, reached, strict=True):
            if x_pos_of_run is not None:
                ax_x.plot(
                    *x_pos_of_run, color=f"C{colour % 10}", linestyle=linestyle, marker="o", markersize=3, label=label
                )
        ax_x.set(title="Greedy mean final x_pos per evaluation", xlabel="env steps", ylabel="x_pos")
    if any(e is not None for e in estimates):
        ax_q = next(extra)
        for label, (colour, linestyle), estimate in zip(names, styles, estimates, strict=True):
            if estimate is not None:
                steps, q, returns = estimate
                marker = _MARKERS[_LINESTYLES.index(linestyle) % len(_MARKERS)]  # the seed's
                style = {"color": f"C{colour % 10}", "marker": marker, "markersize": 4}
                ax_q.plot(steps, q, **style, label=f"{label} Q estimate")
                ax_q.plot(steps, returns, **style, linestyle="--", markerfacecolor="none", label=f"{label} return")
        ax_q.set(title="Q estimate and discounted return", xlabel="env steps", ylabel="value")
    from matplotlib.ticker import FuncFormatter

    # the evaluation panels always count env steps; the training panels when drawn against them
    for ax in [*axes[2:], *((ax_reward, ax_win) if against == "steps" else ())]:
        ax.xaxis.set_major_formatter(FuncFormatter(env_steps_label))
    entries = max(len(ax.get_legend_handles_labels()[1]) for ax in axes)
    fig.set_size_inches(5.5 * panels, 4 + 0.2 * entries)  # each panel's legend below it, clear of the curves
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), fontsize="small")
    fig.tight_layout()
    fig.savefig(output, dpi=100)
    plt.close(fig)
    return fig
