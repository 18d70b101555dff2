"""The sb3-mario command line end to end: train, resume after SIGKILL, signals, evaluate, record, plot."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.needs_torch, pytest.mark.slow]

# tiny budgets, short episodes (50 steps without progress end one) so that several end in a few hundred steps,
# and batches of 8: a quarter of the preset's update cost, which dominates these runs
TINY = [
    "--buffer-size",
    "500",
    "--learning-starts",
    "100",
    "--no-progress-bar",
    "--hyperparams",
    "env_kwargs:{no_progress_steps: 50, noop_max: 30}",
    "batch_size:8",
]


def cli(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "sb3_mario", *args], capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"sb3-mario {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def episodes(run: Path) -> list[dict[str, str]]:
    with open(run / "episodes.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("cli") / "run"
    run.mkdir()  # what a start stopped before its first checkpoint leaves: episodes, no checkpoint
    (run / "episodes.csv").write_text(
        "episode,timestep,reward,length,win,x_pos,level,wall_time\n1,5000,9.0,80,0,700,1-1,60.0\n"
    )
    cli(
        "train",
        "--timesteps",
        "600",
        "--n-envs",
        "2",
        "--run-dir",
        str(run),
        "--eval-freq",
        "300",
        "--eval-episodes",
        "1",
        "--checkpoint-freq",
        "200",
        *TINY,  # its short episodes let SB3 log its rollout stats, every 4 episodes
        "exploration_fraction:1.0",  # random actions all along: more short episodes than a greedy agent's
    )
    return run


def test_train_fills_the_run_folder(run: Path):
    assert (run / "checkpoints" / "model.zip").is_file() and (run / "final_model.zip").is_file()
    assert json.loads((run / "checkpoints" / "checkpoint.json").read_text())["num_timesteps"] == 600
    assert list((run / "tb").glob("events.out.tfevents.*"))
    with open(run / "logs" / "000000000" / "progress.csv", newline="") as f:
        keys = set(next(csv.reader(f)))
    assert {"rollout/success_rate", "rollout/win_rate", "rollout/mean_final_x_pos", "eval/success_rate"} <= keys
    rows = episodes(run)
    assert [int(r["episode"]) for r in rows] == list(range(1, len(rows) + 1)) and len(rows) >= 2
    steps = [int(r["timestep"]) for r in rows]
    assert steps == sorted(steps) and steps[-1] <= 600  # the stopped start's episode is gone
    fields = {"episode", "timestep", "reward", "length", "win", "x_pos", "level", "wall_time", "replayed_frames"}
    assert set(rows[0]) == fields
    assert all(r["level"] == "1-1" and r["win"] in ("0", "1") and r["replayed_frames"] == "0" for r in rows)
    config = (run / "config.yaml").read_text()
    assert "algo: ddqn" in config and "buffer_size: 500" in config and "n_envs: 2" in config
    assert "--timesteps 600" in (run / "command.txt").read_text()
    assert (run / "eval" / "best_model.zip").is_file()


def test_tensorboard_has_win_rate(run: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    assert {"rollout/success_rate", "rollout/win_rate"} <= set(events.Tags()["scalars"])


def test_resume_after_sigkill_continues_without_gaps(tmp_path: Path):
    run = tmp_path / "run"
    args = [
        "train",
        "--timesteps",
        "1000",
        "--run-dir",
        str(run),
        "--eval-freq",
        "0",
        "--checkpoint-freq",
        "200",
        "--vec-env",
        "dummy",
        *TINY,
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sb3_mario", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    meta = run / "checkpoints" / "checkpoint.json"
    deadline = time.time() + 240
    while not (meta.exists() and json.loads(meta.read_text())["num_timesteps"] >= 400):
        assert proc.poll() is None and time.time() < deadline, "no checkpoint before the deadline"
        time.sleep(0.2)
    time.sleep(1.0)  # let it play past the checkpoint: those episodes are replayed after the resume
    proc.kill()
    proc.wait()
    killed_at = json.loads(meta.read_text())["num_timesteps"]
    assert killed_at < 1000

    cli("train", "--resume", str(run), "--no-progress-bar")

    from sb3_mario import DoubleDQN

    assert DoubleDQN.load(run / "final_model.zip").num_timesteps == 1000
    rows = episodes(run)
    assert [int(r["episode"]) for r in rows] == list(range(1, len(rows) + 1))
    steps = [int(r["timestep"]) for r in rows]
    assert steps == sorted(steps) and steps[-1] <= 1000
    assert any(s > killed_at for s in steps) and any(s <= killed_at for s in steps)
    times = [float(r["wall_time"]) for r in rows]
    assert times == sorted(times)  # the clock carries on from the checkpoint's last episode
    assert len(list((run / "logs").iterdir())) == 2  # one progress.csv per segment


def test_resume_takes_the_replay_buffer_train_freq_and_learning_rate_from_config_yaml(run: Path, tmp_path: Path):
    import shutil

    import yaml
    from stable_baselines3.common.save_util import load_from_pkl

    from sb3_mario import DoubleDQN
    from sb3_mario.agent.buffers import FrameDedupReplayBuffer

    moved = tmp_path / "run"
    shutil.copytree(run, moved)
    before = DoubleDQN.load(moved / "checkpoints" / "model.zip")
    assert (before.train_freq.frequency, before.gradient_steps) == (4, 2)  # the ddqn preset's
    assert before.learning_rate == 2.5e-4
    doc = yaml.safe_load((moved / "config.yaml").read_text())
    doc["settings"].update(eval_freq=0, checkpoint_freq=100_000)
    doc["hyperparams"].update(buffer_size=300, train_freq=1, gradient_steps=3, learning_rate=4e-5)
    (moved / "config.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    # the checkpoint's buffer was built for 500 transitions: kept, it refuses the edit
    refused = cli("train", "--resume", str(moved), "--timesteps", "900", check=False)
    _one_line_error(refused, "hyperparams.buffer_size changed (500 -> 300) but the saved replay buffer was built")
    (moved / "checkpoints" / "replay_buffer.pkl").unlink()
    result = cli("train", "--resume", str(moved), "--timesteps", "900")
    for change in (
        "settings.eval_freq: 300 -> 0",
        "hyperparams.learning_rate: 0.00025 -> 4e-05",
        "hyperparams.n_timesteps: 600 -> 900",
        "hyperparams.gradient_steps: 2 -> 3",
    ):
        assert f"applied from config.yaml: {change}" in result.stdout
    assert "replay_buffer.pkl is gone: a new replay buffer is filled with 100 transitions first" in result.stdout

    meta = json.loads((moved / "checkpoints" / "checkpoint.json").read_text())
    assert (meta["num_timesteps"], meta["replay_buffer"]) == (900, True)
    assert meta["config"] == yaml.safe_load((moved / "config.yaml").read_text())  # what it trained with
    assert yaml.safe_load((moved / "config.yaml").read_text())["hyperparams"]["n_timesteps"] == 900
    assert json.loads((run / "checkpoints" / "checkpoint.json").read_text())["num_timesteps"] == 600
    buffer = load_from_pkl(moved / "checkpoints" / "replay_buffer.pkl")
    assert type(buffer) is FrameDedupReplayBuffer
    # 150 steps of 2 envs; the last one ends learn() in StopTraining, before SB3 stores it
    assert (buffer.buffer_size, buffer.n_envs, buffer.pos, buffer.full) == (150, 2, 149, False)
    after = DoubleDQN.load(moved / "checkpoints" / "model.zip")
    assert (after.train_freq.frequency, after.gradient_steps) == (1, 3)
    assert after.learning_rate == 4e-5 and after.lr_schedule(0.5) == 4e-5
    # the updates used it: SB3 sets the optimizer's step size from the schedule before each train()
    assert [group["lr"] for group in after.policy.optimizer.param_groups] == pytest.approx([4e-5])
    # the buffer was deleted: the new one is warmed up with learning_starts (100) transitions,
    # then 3 updates follow each stored step past step 700: 702, 704, ..., 898
    assert after.learning_starts == 700
    assert after._n_updates - before._n_updates == 99 * 3

    # deleted again, the buffer is refilled the same way, here with 5-step returns
    (moved / "checkpoints" / "replay_buffer.pkl").unlink()
    doc = yaml.safe_load((moved / "config.yaml").read_text())
    doc["hyperparams"]["replay_buffer_kwargs"] = {"n_steps": 5}
    (moved / "config.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    result = cli("train", "--resume", str(moved), "--timesteps", "1100")
    assert "replay_buffer.pkl is gone: a new replay buffer is filled with 100 transitions first" in result.stdout
    again = DoubleDQN.load(moved / "checkpoints" / "model.zip")
    assert again.learning_starts == 1000 and again._n_updates - after._n_updates == 49 * 3
    buffer = load_from_pkl(moved / "checkpoints" / "replay_buffer.pkl")
    assert (buffer.n_steps, buffer.gamma) == (5, doc["hyperparams"]["gamma"])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_a_final_checkpoint(tmp_path: Path, sig: int):
    run = tmp_path / "run"
    args = [
        "train",
        "--timesteps",
        "100000",
        "--n-envs",
        "2",
        "--run-dir",
        str(run),
        "--eval-freq",
        "0",
        "--checkpoint-freq",
        "100000",
        *TINY,
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sb3_mario", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.time() + 240
    while not (run / "episodes.csv").exists() or len(episodes(run)) < 2:
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.2)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert f"Stopped by signal {int(sig)}" in out and "Traceback" not in out
    steps = json.loads((run / "checkpoints" / "checkpoint.json").read_text())["num_timesteps"]
    assert 0 < steps < 100000

    from sb3_mario import DoubleDQN

    assert DoubleDQN.load(run / "checkpoints" / "model.zip").num_timesteps == steps


def test_a_signal_while_the_last_checkpoint_is_written_waits_for_it(tmp_path: Path):
    """A second stop (Ctrl-C pressed twice, a script and its caller both sending SIGTERM) that arrives
    during the final save is recorded, not fatal: the checkpoint is written and the process exits 0."""
    run = tmp_path / "run"
    script = (
        "import os, signal, sys\n"
        "from sb3_mario.run import callbacks\n"
        "save = callbacks.CheckpointCallback.save\n"
        "def signalled(self, *args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return save(self, *args, **kwargs)\n"
        "callbacks.CheckpointCallback.save = signalled\n"
        "from sb3_mario.cli import main\n"
        "sys.exit(main())\n"
    )
    args = ["train", "--timesteps", "200", "--n-envs", "2", "--run-dir", str(run), "--eval-freq", "0", *TINY]
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Stopped by signal {int(signal.SIGTERM)} at 200 steps" in proc.stdout
    assert json.loads((run / "checkpoints" / "checkpoint.json").read_text())["num_timesteps"] == 200

    from sb3_mario import DoubleDQN

    assert DoubleDQN.load(run / "checkpoints" / "model.zip").num_timesteps == 200


def test_evaluate_writes_json(run: Path, tmp_path: Path):
    out = tmp_path / "eval.json"
    result = cli("evaluate", str(run / "final_model.zip"), "-n", "3", "--epsilon", "0.1", "-o", str(out))
    summary = json.loads(out.read_text())
    assert summary["episodes"] == 3 and len(summary["per_episode"]) == 3
    assert summary["win_rate"] == np.mean([e["win"] for e in summary["per_episode"]])
    assert summary["mean_x_pos"] == pytest.approx(np.mean([e["x_pos"] for e in summary["per_episode"]]))
    assert "win rate" in result.stdout and "final x_pos" in result.stdout
    # a run folder plays its final model: the same episodes
    cli("evaluate", str(run), "-n", "3", "--epsilon", "0.1", "-o", str(tmp_path / "new" / "run.json"))
    from_folder = json.loads((tmp_path / "new" / "run.json").read_text())  # its folder made
    assert from_folder["model"] == str(run / "final_model.zip") == summary["model"]
    assert from_folder["per_episode"] == summary["per_episode"]


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_record_writes_full_colour_frames(run: Path, tmp_path: Path, suffix: str):
    import imageio.v3 as iio

    out = tmp_path / f"play{suffix}"
    result = cli("record", str(run / "final_model.zip"), "-o", str(out))
    assert result.stdout.startswith("episode 1/1: ")  # its progress: not a terminal, so one line per episode
    n_frames = int(result.stdout.splitlines()[-1].split(": ")[1].split(" frames")[0])
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == n_frames > 1  # the reset frame plus one per step
    assert frames.shape[1:3] == (240, 256)


def test_export_drops_the_optimizer_state_and_keeps_the_policy(run: Path, tmp_path: Path):
    import torch as th

    from sb3_mario import DoubleDQN

    out = tmp_path / "models" / "mario.zip"
    result = cli("export", str(run), "-o", str(out))
    assert f"written {out}" in result.stdout and f"written {out.with_suffix('.yaml')}" in result.stdout
    assert out.with_suffix(".yaml").read_text() == (run / "config.yaml").read_text()
    assert out.stat().st_size < 0.6 * (run / "final_model.zip").stat().st_size  # Adam's moments were 2/3 of it
    original, exported = DoubleDQN.load(run / "final_model.zip"), DoubleDQN.load(out)
    assert exported.policy.optimizer.state_dict()["state"] == {}
    assert exported.num_timesteps == original.num_timesteps == 600
    assert original._last_obs.shape == (2, 4, 84, 84) and exported._last_obs is None  # the rollout state is left out
    data = json.loads(zipfile.ZipFile(out).read("data"))
    assert not {"_last_obs", "_last_original_obs", "ep_info_buffer"} & data.keys()
    obs = np.random.default_rng(0).integers(0, 256, size=(16, 4, 84, 84), dtype=np.uint8)
    with th.no_grad():
        for net in ("q_net", "q_net_target"):
            q_original = getattr(original.policy, net)(original.policy.obs_to_tensor(obs)[0])
            q_exported = getattr(exported.policy, net)(exported.policy.obs_to_tensor(obs)[0])
            assert th.equal(q_original, q_exported)


def test_branch_goes_on_from_a_chosen_model_with_its_own_config(run: Path, tmp_path: Path):
    import yaml

    from sb3_mario import DoubleDQN

    snapshot = DoubleDQN.load(run / "final_model.zip")
    snapshot.num_timesteps = 300  # stands for a copy of the checkpoint taken at step 300
    snapshot.save(tmp_path / "model-300.zip")
    branch = tmp_path / "branch"
    result = cli("branch", str(run), str(tmp_path / "model-300.zip"), "--run-dir", str(branch))
    assert f"a branch of {run} at step 300" in result.stdout

    meta = json.loads((branch / "checkpoints" / "checkpoint.json").read_text())
    assert (meta["num_timesteps"], meta["replay_buffer"]) == (300, False)
    assert episodes(branch) == [row for row in episodes(run) if int(row["timestep"]) <= 300]
    doc = yaml.safe_load((branch / "config.yaml").read_text())
    source_doc = yaml.safe_load((run / "config.yaml").read_text())
    assert doc == source_doc == meta["config"]
    doc["hyperparams"]["learning_rate"] = 1e-5
    doc["settings"].update(eval_freq=0)
    (branch / "config.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    cli("train", "--resume", str(branch), "--timesteps", "500")

    after = DoubleDQN.load(branch / "checkpoints" / "model.zip")
    assert after.num_timesteps == 500 and after.learning_rate == 1e-5
    assert after.learning_starts == 300 + 100  # a new buffer, warmed up with learning_starts transitions
    rows = episodes(branch)
    assert [int(r["episode"]) for r in rows] == list(range(1, len(rows) + 1))
    assert all(int(r["timestep"]) <= 500 for r in rows)
    assert [d.name for d in (branch / "logs").iterdir()] == ["000000300"]  # one segment, from the model's step
    assert json.loads((run / "checkpoints" / "checkpoint.json").read_text())["num_timesteps"] == 600  # untouched


def test_a_branch_of_a_checkpoint_keeps_its_replay_buffer(run: Path, tmp_path: Path):
    import pickle

    from sb3_mario import DoubleDQN

    copy = tmp_path / "kept"  # a copy of the checkpoint, as taken while the run went on
    shutil.copytree(run / "checkpoints", copy)
    branch = tmp_path / "branch"
    result = cli("branch", str(run), str(copy / "model.zip"), "--run-dir", str(branch))
    assert f"a branch of {run} at step 600" in result.stdout
    meta = json.loads((branch / "checkpoints" / "checkpoint.json").read_text())
    assert (meta["num_timesteps"], meta["replay_buffer"]) == (600, True)
    saved = (copy / "replay_buffer.pkl").read_bytes()
    assert (branch / "checkpoints" / "replay_buffer.pkl").read_bytes() == saved

    cli("train", "--resume", str(branch), "--timesteps", "700", "--eval-freq", "0")
    after = DoubleDQN.load(branch / "checkpoints" / "model.zip")
    assert after.num_timesteps == 700 and after.learning_starts == 100  # the buffer went on: no new warm-up
    before, went_on = pickle.loads(saved), pickle.loads((branch / "checkpoints" / "replay_buffer.pkl").read_bytes())
    assert went_on.full and 0 < before.pos < went_on.pos  # the saved ring, written on from where it was
    np.testing.assert_array_equal(went_on.frames[: before.pos], before.frames[: before.pos])
    np.testing.assert_array_equal(went_on.rewards[went_on.pos :], before.rewards[went_on.pos :])
    assert (copy / "replay_buffer.pkl").read_bytes() == saved  # the copy is untouched


def test_plot_draws_both_panels(run: Path, tmp_path: Path):
    from sb3_mario.run.plotting import plot_runs

    out = tmp_path / "plot.png"
    table = cli("plot", str(run), "-o", str(out), "--block", "2", "--last", "3").stdout
    rows = episodes(run)
    # env steps at the end of the last episode; no win in 600 steps of a fresh agent, nor in its 2 evaluations
    row = next(line for line in table.splitlines() if line.startswith("| run |") and "episodes" not in line)
    logged = [  # the last evaluation's mean final x_pos, of each network, as the logger wrote it
        (row["eval/mean_final_x_pos"], row["eval/average_mean_final_x_pos"])
        for path in sorted((run / "logs").glob("*/progress.csv"))
        for row in csv.DictReader(path.open())
        if row.get("eval/mean_final_x_pos")
    ]
    online, average = map(float, logged[-1])  # the preset keeps an average of weights, evaluated beside
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:3] == ["run", str(len(rows)), rows[-1]["timestep"]] and cells[4:] == [
        "-",
        "0.0",
        f"0/1 (x_pos {online:,.0f}); average 0/1 (x_pos {average:,.0f})",
        "0/1 (300); average 0/1 (300)",
        "-",  # every start won at
        "-; average -",  # bar met at, by either network
        "-",  # the final model's tests: not played
        "-",
    ]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = plot_runs([run], tmp_path / "again.png", block=2)
    titles = [ax.get_title() for ax in fig.axes]
    # the run's evaluations: their wins and their Q estimates get a panel each, one point per evaluation
    assert titles == [
        "Average reward per 2 episodes",
        "Win % per 2 episodes",
        "Greedy wins per evaluation of 1",
        "Q estimate and discounted return",
    ]
    n_points = (len(episodes(run)) + 1) // 2
    assert all(len(ax.lines[0].get_xdata()) == n_points for ax in fig.axes[:2])
    assert [ax.lines[0].get_xdata().tolist() for ax in fig.axes[2:]] == [[300, 600], [300, 600]]
    # --x-pos: one more panel, each evaluation's mean final x_pos as the logger wrote it
    cli("plot", str(run), "-o", str(out), "--x-pos")
    reached = plot_runs([run], tmp_path / "x.png", block=2, x_pos=True).axes[3]
    assert reached.get_title() == "Greedy mean final x_pos per evaluation"
    assert reached.lines[0].get_xdata().tolist() == [300, 600]
    assert reached.lines[0].get_ydata().tolist() == pytest.approx([float(x) for x, _ in logged], abs=0.01)
    # at a fixed budget: the episodes that ended by the first one after step 300, and the evaluation at 300
    until = next(int(r["timestep"]) for r in rows if int(r["timestep"]) >= 300)
    assert until < 600 and until < int(rows[-1]["timestep"])
    table = cli("plot", str(run), "-o", str(out), "--until", str(until)).stdout
    cells = [cell.strip() for cell in table.splitlines()[2].strip("|").split("|")]
    kept = [r for r in rows if int(r["timestep"]) <= until]
    assert cells[1:3] == [str(len(kept)), str(until)] and cells[7] == "0/1 (300); average 0/1 (300)"
    _one_line_error(cli("plot", str(run), "--until", "0", check=False), "--until")
    early = cli("plot", str(run), "--until", "1", check=False)
    _one_line_error(early, "has no episodes from the game's start by env step 1")


def _one_line_error(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0] and "Traceback" not in result.stderr, result.stderr


def test_bad_input_gives_one_line_and_exit_2(run: Path, tmp_path: Path):
    corrupt = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(corrupt, "w") as z:
        z.writestr("data", "not json")
    no_checkpoint = tmp_path / "nockpt"
    no_checkpoint.mkdir()
    (no_checkpoint / "config.yaml").write_text((run / "config.yaml").read_text())
    bad = tmp_path / "bad"  # runs with a checkpoint whose config.yaml is broken
    good = (run / "config.yaml").read_text()
    for name, text in (
        ("yaml", "settings: [unclosed\n"),
        ("key", good.replace("settings:\n", "settings:\n  colour: red\n")),
        ("type", good.replace("eval_freq: 300", "eval_freq: often")),
    ):
        shutil.copytree(run / "checkpoints", bad / name / "checkpoints")
        (bad / name / "config.yaml").write_text(text)
    plain = tmp_path / "plain.zip"  # the run's average of weights as a plain model, which keeps no average
    assert _in_process("export", str(run), "-o", str(plain), "--average").returncode == 0
    cases = [
        (["evaluate", str(tmp_path / "missing.zip")], "model file not found"),
        (["evaluate", str(corrupt)], "is not a DQN/DoubleDQN model zip"),
        (
            ["evaluate", str(run / "final_model.zip"), "--action-set", "complex"],
            "the model expects observations (4, 84, 84) and 5 actions, but level 1-1 with action set complex "
            "gives observations (4, 84, 84) and 12 actions",
        ),
        (["train", "--preset", "nope"], "unknown preset 'nope': valid presets are article, article_no_target, ddqn"),
        (["train", "--algo", "ppo"], "argument --algo: invalid choice: 'ppo' (choose from "),
        (["train", "--hyperparams", "gama:0.9"], "unknown hyperparameter 'gama' for ddqn: valid keys are"),
        (["train", "-params", "learning_rate:fast"], "hyperparameter learning_rate must be a number"),
        (
            ["train", "--hyperparams", "average_tau:2", "--run-dir", str(tmp_path / "tau")],
            "average_tau must be in [0, 1] (0: no average), actual value: 2",
        ),
        (
            ["train", "--hyperparams", "target_epsilon:-0.5", "--run-dir", str(tmp_path / "epsilon")],
            "target_epsilon must be in [0, 1] (0: the greedy target), actual value: -0.5",
        ),
        (["evaluate", str(plain), "--average"], "this model keeps no average of its weights"),
        (["export", str(plain), "-o", str(tmp_path / "average.zip"), "--average"], "keeps no average of its weights"),
        (["train", "--resume", str(bad / "yaml")], "config.yaml is not valid YAML (line 2): expected ',' or ']'"),
        (["train", "--resume", str(bad / "key")], "config.yaml: unknown setting 'colour': valid settings are algo"),
        (["train", "--resume", str(bad / "type")], "config.yaml: setting eval_freq must be int, actual value: 'often'"),
        (["train", "--timesteps", "0"], "argument --timesteps: expected a positive integer, got '0'"),
        (["train", "--timesteps", "-5"], "expected a positive integer, got '-5'"),
        (["train", "--resume", str(no_checkpoint)], "has no checkpoint to resume from"),
        (["train", "--resume", str(tmp_path)], "is not a run folder"),
        (["train", "--env", "9-1"], "unknown level '9-1'"),
        (["evaluate", "--level", "8-4"], "no shipped model plays level 8-4: the levels with one are 1-1"),
        (["branch", str(run), str(run / "final_model.zip"), "--run-dir", str(run)], "already holds a run"),
        (["branch", str(tmp_path), str(run / "final_model.zip"), "--run-dir", str(tmp_path / "b")], "not a run folder"),
        (["branch", str(run), str(tmp_path / "missing.zip"), "--run-dir", str(tmp_path / "b")], "model file not found"),
    ]
    # the entry point itself, in a process of its own; the other cases call it in this process
    first_args, first_text = cases[0]
    _one_line_error(cli(*first_args, check=False), first_text)
    for args, text in cases[1:]:
        _one_line_error(_in_process(*args), text)


def _in_process(*args: str) -> subprocess.CompletedProcess:
    """``sb3-mario ARGS`` through ``main()`` in this process, its exit status and streams as a subprocess's."""
    import contextlib
    import io

    import torch

    from sb3_mario.cli import main

    threads = torch.get_num_threads()  # train sets the learner's threads
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse's errors
            code = e.code
    torch.set_num_threads(threads)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_by_default_a_run_stops_at_the_first_evaluation_that_meets_the_bar(tmp_path: Path, scripted):
    """The scripted game is won at the first agent step: the evaluation at step 100 wins every start, then
    the bar's 100 episodes with epsilon 0.02 and 100 with sticky actions, and the run ends there."""
    import numpy as np

    scripted([1.0] * 3, flag=True)
    run = tmp_path / "run"
    args = ["train", "--timesteps", "1000", "--vec-env", "dummy", "--eval-freq", "100", "--eval-episodes", "2"]
    result = _in_process(*args, "--learning-starts", "50", "--buffer-size", "500", "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    assert (
        "Bar at 100 steps: 100% won with epsilon, 100% with sticky actions (the lower of 2 seeds): met" in result.stdout
    )
    assert json.loads((run / "checkpoints" / "checkpoint.json").read_text())["num_timesteps"] == 100
    with np.load(run / "eval" / "evaluations.npz") as evaluations:
        assert int(evaluations["bar_met_at"]) == 100 and evaluations["timesteps"].tolist() == [100]
    assert (run / "eval" / "bar_model.zip").is_file()
