"""The tutorial's Figure 1 for any runs: average reward and win % per block of episodes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sb3_mario.errors import ConfigError
from sb3_mario.run.episodes import read_episodes


def block_means(values: list[float], block: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of consecutive blocks of ``block`` values (a last partial block included) and the
    episode count at the end of each block."""
    x = np.asarray(values, dtype=float)
    starts = np.arange(0, len(x), block)
    ends = np.minimum(starts + block, len(x))
    return ends, np.array([x[s:e].mean() for s, e in zip(starts, ends, strict=True)])


def summarize_run(run_dir: str | Path, last: int = 100) -> dict[str, float | int | str | None]:
    """The tutorial comparison's figures for one run, from its ``episodes.csv``.

    :return: name, episodes, env steps, env steps at the first win (``None`` without one), and the
        win % over the last ``last`` episodes
    """
    rows = read_episodes(Path(run_dir) / "episodes.csv")
    if not rows:
        raise ConfigError(f"{run_dir} has no episodes (no episodes.csv with rows)")
    first_win = next((int(r["timestep"]) for r in rows if r["win"] == "1"), None)
    tail = rows[-last:]
    return {
        "run": Path(run_dir).name,
        "episodes": len(rows),
        "steps": int(rows[-1]["timestep"]),
        "steps_to_first_win": first_win,
        f"win_pct_last_{last}": 100.0 * sum(r["win"] == "1" for r in tail) / len(tail),
    }


def summary_markdown(run_dirs: list[str | Path], last: int = 100) -> str:
    """:func:`summarize_run` of each run as a Markdown table."""
    lines = [
        f"| run | episodes | env steps | env steps to first win | win % (last {last} episodes) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for run_dir in run_dirs:
        s = summarize_run(run_dir, last)
        first = "-" if s["steps_to_first_win"] is None else f"{s['steps_to_first_win']:,}"
        lines.append(f"| {s['run']} | {s['episodes']:,} | {s['steps']:,} | {first} | {s[f'win_pct_last_{last}']:.1f} |")
    return "\n".join(lines)


_SEED_SUFFIX = re.compile(r"^(?P<config>.+)-s(?P<seed>\d+)$")
_LINESTYLES = ("-", "--", ":", "-.")


def run_styles(names: list[str]) -> list[tuple[int, str]]:
    """(colour index, line style) of each run: one colour per configuration, one line style per seed.

    Runs named ``<config>-s<seed>`` (as ``scripts/compare_article.sh`` names them) share the colour of
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


def read_estimates(run_dir: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Env steps, mean Q estimate and mean discounted return of a run's evaluations (from
    ``eval/evaluations.npz``); ``None`` for a run without them."""
    path = Path(run_dir) / "eval" / "evaluations.npz"
    if not path.is_file():
        return None
    with np.load(path) as saved:
        if "q_estimate" not in saved.files:
            return None
        return saved["timesteps"], saved["q_estimate"], saved["discounted_return"]


def plot_runs(run_dirs: list[str | Path], output: str | Path, block: int = 500) -> object:
    """Plot average reward (left) and win % (middle) per ``block`` episodes, one line per run
    (coloured by configuration, styled by seed: :func:`run_styles`); when runs have them, a third
    panel draws each evaluation's mean Q estimate (solid) against the discounted return obtained
    (dashed), against env steps, as van Hasselt et al. (2016), Figure 3.

    :return: the matplotlib figure (also written to ``output`` as PNG)
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if block < 1:
        raise ConfigError(f"block must be >= 1, actual value: {block}")
    estimates = [read_estimates(run_dir) for run_dir in run_dirs]
    has_estimates = any(e is not None for e in estimates)
    fig, axes = plt.subplots(1, 3 if has_estimates else 2, figsize=(16.5 if has_estimates else 11, 4))
    ax_reward, ax_win = axes[0], axes[1]
    names = [Path(run_dir).name for run_dir in run_dirs]
    for run_dir, label, (colour, linestyle) in zip(run_dirs, names, run_styles(names), strict=True):
        rows = read_episodes(Path(run_dir) / "episodes.csv")
        if not rows:
            raise ConfigError(f"{run_dir} has no episodes (no episodes.csv with rows)")
        ends, rewards = block_means([float(r["reward"]) for r in rows], block)
        _, wins = block_means([100.0 * int(r["win"]) for r in rows], block)
        style = {"color": f"C{colour % 10}", "linestyle": linestyle, "marker": "o", "markersize": 3, "label": label}
        ax_reward.plot(ends, rewards, **style)
        ax_win.plot(ends, wins, **style)
    ax_reward.set(title=f"Average reward per {block} episodes", xlabel="episode", ylabel="reward")
    ax_win.set(title=f"Win % per {block} episodes", xlabel="episode", ylabel="win %", ylim=(-2, 102))
    if has_estimates:
        ax_q = axes[2]
        for label, (colour, _), estimate in zip(names, run_styles(names), estimates, strict=True):
            if estimate is not None:
                steps, q, returns = estimate
                ax_q.plot(steps, q, color=f"C{colour % 10}", marker="o", markersize=3, label=f"{label} Q estimate")
                ax_q.plot(steps, returns, color=f"C{colour % 10}", linestyle="--", label=f"{label} return")
        ax_q.set(title="Q estimate and discounted return", xlabel="env steps", ylabel="value")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(output, dpi=100)
    plt.close(fig)
    return fig
