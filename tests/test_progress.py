"""Progress of long commands (evaluate, record, tune) and the torch threads of each kind of process."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from sb3_mario.run.progress import Progress, format_duration
from sb3_mario.run.threads import set_torch_threads

pytestmark = pytest.mark.needs_torch


def test_plain_lines_count_the_work_and_estimate_the_rest(monkeypatch: pytest.MonkeyPatch):
    clock = iter([100.0, 110.0, 130.0, 160.0, 0.0])  # start, then after each unit (and a last start)
    monkeypatch.setattr("sb3_mario.run.progress.monotonic", lambda: next(clock))
    out = io.StringIO()  # not a terminal: one plain line per unit
    progress = Progress(3, "episode", stream=out)
    progress.update("won")
    progress.update("lost")
    progress.update("won")
    assert out.getvalue().splitlines() == [
        "episode 1/3: won, about 20s left",  # 10 s a unit so far
        "episode 2/3: lost, about 15s left",
        "episode 3/3: won",
    ]
    silent = io.StringIO()
    Progress(3, "episode", enabled=False, stream=silent).update("won")
    assert silent.getvalue() == ""
    assert (format_duration(12.4), format_duration(250), format_duration(3900)) == ("12s", "4m 10s", "1h 05m")


def test_threads_are_set_by_kind_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch):
    import torch

    calls = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setattr("sb3_mario.run.threads.os.cpu_count", lambda: 4)
    assert set_torch_threads("act") == 1
    assert set_torch_threads("learn") == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert set_torch_threads("act") is None and set_torch_threads("learn") is None
    assert calls == [1, 4]
    with pytest.raises(ValueError, match="unknown kind of process 'watch': valid kinds are act, learn"):
        set_torch_threads("watch")


EPISODE_LINE = re.compile(r"^episode (\d)/3: (won|lost at x_pos 48); (\d)/\1 won \(\d+ %\)")


@pytest.mark.parametrize("command", ["evaluate", "record"])
def test_evaluate_and_record_show_each_episode_with_the_running_win_rate(
    model_zip: Path, tmp_path: Path, scripted, capsys, command: str
):
    from sb3_mario.cli import main

    scripted([1.0] * 8, flag=True)  # 2 agent steps to the flag
    out = str(tmp_path / ("eval.json" if command == "evaluate" else "play.gif"))
    assert main([command, str(model_zip), "-n", "3", "--device", "cpu", "-o", out]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("episode ")]
    assert [EPISODE_LINE.match(line).groups() for line in lines] == [
        ("1", "won", "1"),
        ("2", "won", "2"),
        ("3", "won", "3"),
    ]

    assert main([command, str(model_zip), "-n", "3", "--device", "cpu", "-o", out, "--no-progress-bar"]) == 0
    assert not [line for line in capsys.readouterr().out.splitlines() if line.startswith("episode ")]


def test_tune_shows_each_trial_with_the_best_so_far(tmp_path: Path, scripted, capsys, monkeypatch):
    from sb3_mario.cli import main

    scripted([1.0] * 30)
    monkeypatch.chdir(tmp_path)
    args = [
        "tune", "--storage", f"sqlite:///{tmp_path / 's.db'}", "--n-trials", "2", "--trial-timesteps", "40",
        "--n-evaluations", "1", "--eval-episodes", "1", "--buffer-size", "100", "--learning-starts", "10",
        "--device", "cpu", "--sampler", "random", "--sampler-seed", "0", "--hyperparams", "n_envs:1",
    ]  # fmt: skip
    assert main(args) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if re.match(r"trial \d+/\d+: ", line)]
    assert len(lines) == 2
    assert re.match(r"trial 1/2: trial 0 complete 0\.\d{4}; best 0\.\d{4} \(trial 0\); study: 1 complete, 0 pruned, "
                    r"0 fail, about \d+s left$", lines[0])  # fmt: skip
    assert re.match(r"trial 2/2: trial 1 complete 0\.\d{4}; best 0\.\d{4} \(trial [01]\); study: 2 complete", lines[1])

    assert main([*args, "--no-progress-bar"]) == 0
    assert not [line for line in capsys.readouterr().out.splitlines() if re.match(r"trial \d+/\d+: ", line)]
