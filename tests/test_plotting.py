"""The comparison table and block means, on hand-written episode logs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sb3_mario.run.episodes import EPISODE_FIELDS


def write_run(path: Path, wins: list[int], steps: list[int]) -> Path:
    path.mkdir()
    with open(path / "episodes.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(EPISODE_FIELDS)
        for i, (win, step) in enumerate(zip(wins, steps, strict=True), start=1):
            writer.writerow((i, step, 100.0 * (i % 3), 50, win, 3161 if win else 500, "1-1", 1.0))
    return path


def test_summary_of_runs(tmp_path: Path):
    from sb3_mario.run.plotting import summarize_run, summary_markdown

    run = write_run(tmp_path / "ddqn", [0, 0, 1, 0, 1, 1], [100, 250, 400, 520, 700, 900])
    assert summarize_run(run, last=4) == {
        "run": "ddqn",
        "episodes": 6,
        "steps": 900,
        "steps_to_first_win": 400,
        "win_pct_last_4": 75.0,
    }
    never = write_run(tmp_path / "dqn", [0, 0], [80, 160])
    assert summarize_run(never)["steps_to_first_win"] is None
    table = summary_markdown([run, never], last=4).splitlines()
    assert table[2] == "| ddqn | 6 | 900 | 400 | 75.0 |" and table[3] == "| dqn | 2 | 160 | - | 0.0 |"


def test_block_means_include_the_last_partial_block():
    from sb3_mario.run.plotting import block_means

    ends, means = block_means([1, 2, 3, 4, 5], 2)
    np.testing.assert_array_equal(ends, [2, 4, 5])
    np.testing.assert_array_equal(means, [1.5, 3.5, 5.0])


def test_runs_of_one_configuration_share_a_colour_and_seeds_share_a_line_style():
    from sb3_mario.run.plotting import run_styles

    names = ["article-dqn-s0", "ddqn-s0", "article-dqn-s1", "ddqn-s1", "ddqn-1-1"]
    assert run_styles(names) == [(0, "-"), (1, "-"), (0, "--"), (1, "--"), (2, "-")]


def test_the_estimates_of_runs_that_have_them_get_a_third_panel(tmp_path: Path):
    from sb3_mario.run.plotting import plot_runs, read_estimates

    with_estimates = write_run(tmp_path / "ddqn-s0", [0, 1], [100, 200])
    (with_estimates / "eval").mkdir()
    np.savez(
        with_estimates / "eval" / "evaluations.npz",
        timesteps=[50, 100],
        results=[[1.0], [2.0]],
        q_estimate=[12.0, 9.5],
        discounted_return=[8.0, 9.0],
    )
    without = write_run(tmp_path / "dqn-s0", [0, 0], [100, 200])
    assert read_estimates(without) is None
    fig = plot_runs([with_estimates, without], tmp_path / "plot.png", block=1)
    assert [ax.get_title() for ax in fig.axes][2] == "Q estimate and discounted return"
    lines = fig.axes[2].lines
    assert [line.get_label() for line in lines] == ["ddqn-s0 Q estimate", "ddqn-s0 return"]
    assert lines[0].get_ydata().tolist() == [12.0, 9.5] and lines[1].get_ydata().tolist() == [8.0, 9.0]
    assert lines[0].get_xdata().tolist() == [50, 100]
    assert len(plot_runs([without], tmp_path / "two.png", block=1).axes) == 2
