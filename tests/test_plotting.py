"""The comparison table, its clock, block means and panels, on hand-written episode logs and evaluations."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sb3_mario.run.episodes import EPISODE_FIELDS


def write_run(
    path: Path, wins: list[int], steps: list[int], times: list[float] | None = None, replayed: list[int] | None = None
) -> Path:
    """An episode log; each episode ends ``wall_time`` 10 s per 100 env steps unless ``times`` are given,
    and begins at the game's start unless ``replayed`` gives its replayed frames."""
    path.mkdir()
    times = times or [step / 10 for step in steps]
    replayed = replayed or [0] * len(wins)
    with open(path / "episodes.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(EPISODE_FIELDS)
        for i, (win, step, t, r) in enumerate(zip(wins, steps, times, replayed, strict=True), start=1):
            writer.writerow((i, step, 100.0 * (i % 3), 50, win, 3161 if win else 500, "1-1", t, r))
    return path


def write_evaluations(run: Path, steps: list[int], wins: list[int], episodes: int = 31, **extra) -> None:
    """Greedy evaluations at ``steps``, each winning its first ``wins[i]`` of ``episodes``."""
    (run / "eval").mkdir()
    successes = [[j < won for j in range(episodes)] for won in wins]
    results = [[3000.0 if won else 500.0 for won in row] for row in successes]
    np.savez(run / "eval" / "evaluations.npz", timesteps=steps, results=results, successes=successes, **extra)


def test_summary_of_runs(tmp_path: Path):
    from sb3_mario.run.plotting import summarize_run, summary_markdown

    run = write_run(tmp_path / "ddqn", [0, 0, 1, 0, 1, 1], [100, 250, 400, 520, 700, 900])
    no_evaluation = {key: None for key in ("eval_episodes", "last_eval_wins", "best_eval_wins", "best_eval_step")}
    no_evaluation["last_eval_x_pos"] = None
    no_evaluation.update(all_won_step=None, bar_step=None, bar_hours=None, final_epsilon_wins=None)
    no_evaluation.update(final_sticky_wins=None, last_average_wins=None, last_average_x_pos=None)
    no_evaluation.update(best_average_wins=None, best_average_step=None)
    no_evaluation.update(final_average_epsilon_wins=None, final_average_sticky_wins=None)
    no_evaluation.update(average_bar_step=None, average_bar_hours=None)
    assert summarize_run(run, last=4) == {
        "run": "ddqn",
        "episodes": 6,
        "steps": 900,
        "hours": 90 / 3600,
        "steps_to_first_win": 400,
        "win_pct_last_4": 75.0,
        **no_evaluation,
    }
    never = write_run(tmp_path / "dqn", [0, 0], [80, 160])
    assert summarize_run(never)["steps_to_first_win"] is None
    table = summary_markdown([run, never], last=4).splitlines()
    assert table[2] == "| ddqn | 6 | 900 | 0.03 | 400 | 75.0 | - | - | - | - | - | - |"
    assert table[3] == "| dqn | 2 | 160 | 0.00 | - | 0.0 | - | - | - | - | - | - |"


def test_training_wins_count_the_episodes_from_the_games_start(tmp_path: Path):
    """Episodes begun part-way along an earlier one (replayed frames) are not wins of the level."""
    from sb3_mario.run.plotting import summarize_run, summary_markdown

    run = write_run(
        tmp_path / "replay", [1, 0, 1, 1, 0, 1], [100, 250, 400, 520, 700, 900], replayed=[700, 0, 0, 350, 0, 0]
    )
    summary = summarize_run(run, last=3)
    assert summary["steps_to_first_win"] == 400  # not the replayed win at 100
    assert summary["win_pct_last_3"] == pytest.approx(200 / 3)  # 400, 700, 900: not the replayed 520
    assert (summary["episodes"], summary["steps"]) == (6, 900)
    replayed_only = write_run(tmp_path / "replayed", [1, 0], [100, 250], replayed=[700, 90])
    summary = summarize_run(replayed_only)
    assert summary["steps_to_first_win"] is None and summary["win_pct_last_100"] is None
    assert summary_markdown([replayed_only]).splitlines()[2].startswith("| replayed | 2 | 250 | 0.01 | - | - |")


def test_the_summary_reads_the_greedy_evaluations_and_the_bar(tmp_path: Path):
    from sb3_mario.run.plotting import summarize_run, summary_markdown

    steps = [50_000 * k for k in range(1, 9)]
    # an episode ends 10 steps after each evaluation: half an hour apart, an hour for the last (the bar's tests)
    hours = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.5]
    run = write_run(tmp_path / "ddqn-s0", [0] * 7 + [1], [s + 10 for s in steps], [h * 3600 for h in hours])
    x_pos = [300.0, 700.0, np.nan, 2000.0, 3161.0, 3000.0, 3161.0, 3161.4]
    write_evaluations(run, steps, [0, 3, 12, 30, 31, 28, 31, 31], bar_met_at=400_000, mean_x_pos=x_pos)
    summary = summarize_run(run)
    assert {key: summary[key] for key in summary if "eval" in key or key.startswith(("all", "bar"))} == {
        "eval_episodes": 31,
        "last_eval_wins": 31,
        "last_eval_x_pos": 3161.4,
        "best_eval_wins": 31,
        "best_eval_step": 250_000,  # the first evaluation with the most wins
        "all_won_step": 250_000,
        "bar_step": 400_000,
        "bar_hours": 4.5,  # when the first episode that ended at or after the bar's step ended
    }
    # evaluations that never won every start, and no bar
    other = write_run(tmp_path / "ddqn-s1", [0, 0], [99_990, 199_990])
    write_evaluations(other, [100_000, 200_000], [5, 2])
    # the bar's tests of the final model, as `sb3-mario evaluate -o` writes them (scripts/seeds.sh): one played
    for name, wins in (("epsilon-0.02.json", 93), ("other.json", 1)):
        summary = {"episodes": 100, "wins": wins, "win_rate": wins / 100, "mean_x_pos": 3010.4}
        (run / "eval" / name).write_text(json.dumps(summary))
    finals = summarize_run(run)
    assert (finals["final_epsilon_wins"], finals["final_sticky_wins"]) == ((93, 100, 3010.4), None)
    table = summary_markdown([run, other]).splitlines()
    assert table[2] == (
        "| ddqn-s0 | 8 | 400,010 | 4.50 | 400,010 | 12.5 | 31/31 (x_pos 3,161) | 31/31 (250,000) | 250,000 "
        "| 400,000 (4.50) "
        "| 93/100 (x_pos 3,010) | - |"
    )
    assert table[3].endswith("| 2/31 | 5/31 (100,000) | - | - | - | - |")  # a history without x_pos
    unknown = write_run(tmp_path / "ddqn-s2", [0], [99_990])
    write_evaluations(unknown, [100_000], [0], mean_x_pos=[np.nan])  # an evaluation from before x_pos was kept
    assert summarize_run(unknown)["last_eval_x_pos"] is None


def test_the_summary_gives_the_average_of_weights_beside_the_online_network(tmp_path: Path):
    from sb3_mario.run.plotting import summarize_run, summary_markdown

    steps = [100_000, 200_000, 300_000, 400_000]
    run = write_run(tmp_path / "overlap-s0", [0, 0], [99_990, 399_990])
    # no average at the first evaluation (a run that took average_tau on a resume), then 4, 9 and all 31 wins
    average = {"average_wins": [np.nan, 4.0, 9.0, 31.0], "average_mean_x_pos": [np.nan, 1500.0, 2500.0, 3161.4]}
    write_evaluations(
        run, steps, [0, 5, 3, 6], mean_x_pos=[400.0, 1800.0, 1700.0, 2100.0], average_bar_met_at=400_000, **average
    )
    summary = summarize_run(run)
    assert {key: summary[key] for key in summary if "average" in key and "final" not in key} == {
        "last_average_wins": 31,
        "last_average_x_pos": 3161.4,
        "best_average_wins": 31,
        "best_average_step": 400_000,
        "average_bar_step": 400_000,
        "average_bar_hours": 399_990 / 10 / 3600,  # the episode that ended at step 399,990: the last one
    }
    for name, wins in (("sticky-0.25.json", 40), ("average-sticky-0.25.json", 55)):  # the final model's tests
        summary = {"episodes": 100, "wins": wins, "win_rate": wins / 100, "mean_x_pos": 2500.0 + wins}
        (run / "eval" / name).write_text(json.dumps(summary))
    table = summary_markdown([run]).splitlines()
    assert "| 6/31 (x_pos 2,100); average 31/31 (x_pos 3,161) | 6/31 (400,000); average 31/31 (400,000) |" in table[2]
    every_start, bar = "-", "-; average 400,000 (11.11)"  # the online network never won every start
    assert table[2].endswith(f"| {every_start} | {bar} | - | 40/100 (x_pos 2,540); average 55/100 (x_pos 2,555) |")
    without = write_run(tmp_path / "ddqn-s0", [0], [99_990])
    write_evaluations(without, [100_000], [1], average_wins=[np.nan], average_mean_x_pos=[np.nan])
    assert summarize_run(without)["best_average_wins"] is None
    assert "average" not in summary_markdown([without])


def test_runs_of_different_budgets_compare_at_a_fixed_env_step(tmp_path: Path):
    """``until``: the episodes and evaluations up to that env step; the final tests of runs that ended by then."""
    from sb3_mario.run.plotting import plot_runs, read_greedy_wins, summarize_run, summary_markdown

    steps = [100_000 * k for k in range(1, 9)]
    # an 800,000-step run: episodes end 10 steps after each evaluation, the first win at 610
    long = write_run(tmp_path / "long-s0", [0, 0, 0, 0, 0, 1, 1, 1], [s + 10 for s in steps])
    x_pos = [300.0 + 100 * k for k in range(8)]
    average = {"average_wins": [0.0, 0, 1, 2, 5, 20, 31, 31], "average_mean_x_pos": x_pos}
    write_evaluations(long, steps, [0, 0, 0, 1, 3, 31, 31, 31], mean_x_pos=x_pos, bar_met_at=600_000, **average)
    short = write_run(tmp_path / "short-s0", [0, 0, 1, 0], [s - 10 for s in steps[:4]])
    write_evaluations(short, steps[:4], [0, 2, 4, 1], mean_x_pos=x_pos[:4])
    for run in (long, short):  # the final model's test: the long run's is of its model at 800,000
        summary = {"episodes": 100, "wins": 7, "win_rate": 0.07, "mean_x_pos": 2000.0}
        (run / "eval" / "epsilon-0.02.json").write_text(json.dumps(summary))

    at_400k = summarize_run(long, last=2, until=400_000)
    assert (at_400k["episodes"], at_400k["steps"], at_400k["hours"]) == (3, 300_010, 30_001 / 3600)
    assert at_400k["steps_to_first_win"] is None and at_400k["win_pct_last_2"] == 0.0
    assert (at_400k["last_eval_wins"], at_400k["last_eval_x_pos"], at_400k["best_eval_step"]) == (1, 600.0, 400_000)
    assert (at_400k["last_average_wins"], at_400k["best_average_wins"]) == (2, 2)
    assert at_400k["bar_step"] is None and at_400k["all_won_step"] is None  # met at 600,000: after the budget
    assert at_400k["final_epsilon_wins"] is None  # the test played the model at 800,000
    assert summarize_run(short, until=400_000)["final_epsilon_wins"] == (7, 100, 2000.0)  # it ended by then
    whole = summarize_run(long)
    assert (whole["episodes"], whole["bar_step"], whole["final_epsilon_wins"]) == (8, 600_000, (7, 100, 2000.0))
    assert summarize_run(long, until=700_000)["bar_step"] == 600_000
    table = summary_markdown([long, short], last=2, until=400_000).splitlines()
    assert table[2] == (
        "| long-s0 | 3 | 300,010 | 8.33 | - | 0.0 | 1/31 (x_pos 600); average 2/31 (x_pos 600) "
        "| 1/31 (400,000); average 2/31 (400,000) | - | -; average - | - | - |"
    )
    steps_kept, wins, _ = read_greedy_wins(long, until=400_000)
    assert steps_kept.tolist() == steps[:4] and wins.tolist() == [0, 0, 0, 1]
    fig = plot_runs([long, short], tmp_path / "at-400k.png", block=1, against="steps", until=400_000)
    reward_lines = fig.axes[0].get_lines()
    assert [line.get_xdata().tolist() for line in reward_lines] == [
        [100_010, 200_010, 300_010],
        [s - 10 for s in steps[:4]],
    ]
    assert fig.axes[2].get_lines()[0].get_xdata().tolist() == steps[:4]  # greedy wins: 4 evaluations
    from sb3_mario.errors import ConfigError

    with pytest.raises(ConfigError, match="has no episodes by env step 50"):
        summarize_run(long, until=50)


def test_wall_times_add_up_the_segments_of_runs_whose_clock_restarted_at_each_resume():
    from sb3_mario.run.episodes import wall_times

    rows = [{"wall_time": t} for t in ("10.0", "25.5", "3.0", "7.0", "1.0", "30.0")]
    assert wall_times(rows) == [10.0, 25.5, 28.5, 32.5, 33.5, 62.5]
    carried_on = [{"wall_time": t} for t in ("10.0", "25.5", "25.5", "40.0")]
    assert wall_times(carried_on) == [10.0, 25.5, 25.5, 40.0]
    # a resume that carried the clock on from an earlier episode: seconds back, not a new segment
    carried_on_late = [{"wall_time": t} for t in ("7000.0", "7062.4", "7053.9", "7100.0")]
    assert wall_times(carried_on_late) == [7000.0, 7062.4, 7053.9, 7100.0]


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
    assert lines[0].get_linestyle() == "-" and lines[1].get_linestyle() == "--"
    assert lines[0].get_marker() == lines[1].get_marker() == "o" and lines[1].get_markerfacecolor() == "none"
    seed_1 = write_run(tmp_path / "ddqn-s1", [0, 1], [100, 200])
    (seed_1 / "eval").mkdir()
    np.savez(
        seed_1 / "eval" / "evaluations.npz", timesteps=[50], results=[[1.0]], q_estimate=[3.0], discounted_return=[2.0]
    )
    both = plot_runs([with_estimates, seed_1], tmp_path / "seeds.png", block=1).axes[2].lines
    assert [line.get_marker() for line in both] == ["o", "o", "s", "s"]  # a marker shape per seed
    assert both[0].get_color() == both[2].get_color()  # a colour per configuration
    assert len(plot_runs([without], tmp_path / "two.png", block=1).axes) == 2


def test_greedy_evaluations_get_a_panel_and_training_curves_can_be_drawn_against_env_steps(tmp_path: Path):
    from sb3_mario.errors import ConfigError
    from sb3_mario.run.plotting import plot_runs

    run = write_run(tmp_path / "ddqn-s0", [0, 1, 1], [100, 250, 420])
    write_evaluations(run, [200, 400], [3, 31], q_estimate=[1.0, 2.0], discounted_return=[1.0, 1.5])
    fig = plot_runs([run], tmp_path / "plot.png", block=2, against="steps")
    assert [ax.get_title() for ax in fig.axes] == [
        "Average reward per 2 episodes",
        "Win % per 2 episodes",
        "Greedy wins per evaluation of 31",
        "Q estimate and discounted return",
    ]
    win = fig.axes[1].lines[0]
    assert win.get_xdata().tolist() == [250, 420] and win.get_ydata().tolist() == [50.0, 100.0]
    assert fig.axes[1].get_xlabel() == "env steps"
    assert fig.axes[2].get_ylim() == pytest.approx((-0.62, 31.62))  # the 31 starts, whatever the wins
    greedy = fig.axes[2].lines[0]
    assert greedy.get_xdata().tolist() == [200, 400] and greedy.get_ydata().tolist() == [3, 31]
    assert [line.get_label() for line in fig.axes[2].lines] == ["ddqn-s0"]  # no average of weights
    averaged = write_run(tmp_path / "overlap-s0", [0, 1, 1], [100, 250, 420])
    write_evaluations(averaged, [200, 400], [3, 30], average_wins=[np.nan, 31.0])  # an average from step 400 on
    lines = plot_runs([run, averaged], tmp_path / "both.png", block=2).axes[2].lines
    assert [line.get_label() for line in lines] == ["ddqn-s0", "overlap-s0", "overlap-s0 average"]
    assert lines[2].get_xdata().tolist() == [400] and lines[2].get_ydata().tolist() == [31.0]
    assert lines[2].get_color() == lines[1].get_color() and lines[2].get_linestyle() == ":"
    assert [ax.xaxis.get_major_formatter()(250_000, 0) for ax in fig.axes] == ["250k"] * 4  # env steps in k
    by_episode = plot_runs([run], tmp_path / "again.png", block=2)
    assert by_episode.axes[1].lines[0].get_xdata().tolist() == [2, 3]
    assert by_episode.axes[1].xaxis.get_major_formatter()(250_000, 0) != "250k"  # episodes, not env steps
    assert by_episode.axes[2].xaxis.get_major_formatter()(250_000, 0) == "250k"
    with pytest.raises(ConfigError, match="unknown x axis 'hours': valid values are episodes, steps"):
        plot_runs([run], tmp_path / "bad.png", against="hours")


def test_the_greedy_evaluations_mean_final_x_pos_gets_a_panel_on_request(tmp_path: Path):
    from sb3_mario.run.plotting import plot_runs

    run = write_run(tmp_path / "article-s0", [0, 0, 0], [100, 250, 420])
    write_evaluations(
        run, [200, 400], [0, 0], mean_x_pos=[694.5, 1361.0], q_estimate=[1.0, 2.0], discounted_return=[1.0, 1.5]
    )
    older = write_run(tmp_path / "article-s1", [0, 0], [150, 300])
    write_evaluations(older, [200], [0])  # evaluations from before mean_x_pos was kept: no line
    fig = plot_runs([run, older], tmp_path / "plot.png", block=2, x_pos=True)
    assert [ax.get_title() for ax in fig.axes][2:] == [
        "Greedy wins per evaluation of 31",
        "Greedy mean final x_pos per evaluation",
        "Q estimate and discounted return",
    ]
    (line,) = fig.axes[3].lines
    assert line.get_label() == "article-s0" and line.get_color() == fig.axes[2].lines[0].get_color()
    assert line.get_xdata().tolist() == [200, 400] and line.get_ydata().tolist() == [694.5, 1361.0]
    assert fig.axes[3].xaxis.get_major_formatter()(250_000, 0) == "250k"
    assert len(plot_runs([older], tmp_path / "none.png", block=2, x_pos=True).axes) == 3  # no x_pos: no panel


def test_env_step_ticks_read_in_thousands_and_millions():
    from sb3_mario.run.plotting import env_steps_label

    assert [env_steps_label(s) for s in (0, 50_000, 250_000, 1_000_000, 1_500_000, 2_500)] == [
        "0",
        "50k",
        "250k",
        "1M",
        "1.5M",
        "2.5k",
    ]


def test_a_reader_that_leaves_the_pipe_ends_the_command_quietly(tmp_path: Path):
    """``sb3-mario plot RUN | head -0``: exit 1, no traceback, and the figure still written."""
    import subprocess
    import sys

    run = write_run(tmp_path / "ddqn-s0", [0, 1], [100, 200])
    command = [sys.executable, "-m", "sb3_mario", "plot", str(run), "-o", str(tmp_path / "plot.png"), "--block", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader leaves before the table is printed
    _, stderr = process.communicate(timeout=300)
    assert (process.returncode, stderr.decode()) == (1, "")
    assert (tmp_path / "plot.png").is_file()
