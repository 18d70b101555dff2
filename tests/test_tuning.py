"""Tuning: the search space, real studies on 1-1, PostgreSQL workers, heartbeats, bad input."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_torch
optuna = pytest.importorskip("optuna")

from sb3_mario.tuning.objective import trial_score  # noqa: E402
from sb3_mario.tuning.space import convert_params, sample_params  # noqa: E402

TINY = [
    "--trial-timesteps",
    "300",
    "--n-evaluations",
    "2",
    "--eval-episodes",
    "1",
    "--buffer-size",
    "500",
    "--learning-starts",
    "100",
    "--seed",
    "0",
    "--hyperparams",  # short episodes and small batches: these trials test the study, not learning
    "env_kwargs:{no_progress_steps: 50}",
    "batch_size:8",
]


def tune(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "sb3_mario", "tune", *args], cwd=cwd, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def test_fixed_trial_gives_exact_kwargs():
    trial = optuna.trial.FixedTrial(
        {"one_minus_gamma": 0.1, "learning_rate": 3e-4, "exploration_fraction": 0.2, "exploration_final_eps": 0.05}
    )
    assert convert_params(sample_params(trial)) == {
        "gamma": 0.9,
        "learning_rate": 3e-4,
        "exploration_fraction": 0.2,
        "exploration_final_eps": 0.05,
    }
    full = optuna.trial.FixedTrial(
        {
            "one_minus_gamma": 0.01,
            "learning_rate": 1e-4,
            "exploration_fraction": 0.1,
            "exploration_final_eps": 0.0,
            "target_update_interval": 5000,
            "train_freq": 4,
        }
    )
    kwargs = convert_params(sample_params(full, full=True))
    assert kwargs == {
        "gamma": 0.99,
        "learning_rate": 1e-4,
        "exploration_fraction": 0.1,
        "exploration_final_eps": 0.0,
        "target_update_interval": 5000,
        "train_freq": 4,
    }


def test_converter_keeps_the_rest_of_the_config():
    params = {"one_minus_gamma": 0.05, "policy_kwargs": {"net_arch": []}, "buffer_size": 7}
    assert convert_params(params) == {"gamma": 0.95, "policy_kwargs": {"net_arch": []}, "buffer_size": 7}
    assert params["one_minus_gamma"] == 0.05  # pure: the input is untouched


def test_best_config_keeps_the_trials_exploration_steps():
    """exploration_fraction is a share of the budget: rescaled from the trial's to the run's."""
    from sb3_mario.run.config import resolve
    from sb3_mario.tuning.settings import TuneSettings
    from sb3_mario.tuning.study import best_config

    study = optuna.create_study(direction="maximize")
    params = {"one_minus_gamma": 0.01, "learning_rate": 1e-4, "exploration_fraction": 0.2, "exploration_final_eps": 0.0}
    distributions = {k: optuna.distributions.FloatDistribution(0.0, 1.0) for k in params}
    study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=0.5))
    base = resolve(hyperparams={"n_timesteps": 2_000_000})
    (entry,) = best_config(study, base, TuneSettings(trial_timesteps=100_000)).values()
    assert entry["exploration_fraction"] == pytest.approx(0.01)  # 20,000 steps of 2,000,000
    assert (entry["gamma"], entry["learning_rate"], entry["exploration_final_eps"]) == (0.99, 1e-4, 0.0)
    assert {k: v for k, v in entry.items() if k not in {"gamma", *params}} == {
        k: v for k, v in base.to_dict()["hyperparams"].items() if k not in {"gamma", *params}
    }


def test_outputs_of_a_pruned_study_show_every_trials_evaluations(tmp_path: Path):
    """Pruned trials have no value: the intermediate values plot is what shows them; the best config and the
    history need a complete trial, the importances two."""
    from sb3_mario.run.config import resolve
    from sb3_mario.tuning.settings import TuneSettings
    from sb3_mario.tuning.study import write_outputs

    study = optuna.create_study(direction="maximize")
    params = {"one_minus_gamma": 0.01, "learning_rate": 1e-4, "exploration_fraction": 0.2, "exploration_final_eps": 0.0}
    distributions = {k: optuna.distributions.FloatDistribution(0.0, 1.0) for k in params}

    def add(state: optuna.trial.TrialState, scores: list[float]) -> None:
        value = scores[-1] if state == optuna.trial.TrialState.COMPLETE else None
        study.add_trial(
            optuna.trial.create_trial(
                params=dict(params),
                distributions=distributions,
                value=value,
                intermediate_values=dict(enumerate(scores)),
                state=state,
            )
        )

    base = resolve(hyperparams={"n_timesteps": 2_000_000})
    tune = TuneSettings(trial_timesteps=100_000, output_dir=str(tmp_path))
    add(optuna.trial.TrialState.PRUNED, [0.001, 0.002])
    written = {p.name for p in write_outputs(study, base, tune)}
    assert written == {"summary.txt", "intermediate_values.png"}
    add(optuna.trial.TrialState.COMPLETE, [0.001, 0.003, 0.002])
    written = {p.name for p in write_outputs(study, base, tune)}
    assert written == {"summary.txt", "intermediate_values.png", "best_config.yml", "optimization_history.png"}
    params["learning_rate"] = 2e-4
    add(optuna.trial.TrialState.COMPLETE, [0.002, 0.004, 0.005])
    written = {p.name for p in write_outputs(study, base, tune)}
    assert "param_importances.png" in written
    assert {p.name for p in tmp_path.iterdir()} == written
    assert (tmp_path / "summary.txt").read_text().splitlines()[1].split()[:2] == ["0", "PRUNED"]


def test_score_ranks_wins_before_progress():
    assert trial_score([True, False], [3000, 100]) > trial_score([False, False], [3100, 3100])
    assert trial_score([False], [800]) > trial_score([False], [700])
    assert trial_score([False, False], [500, 700]) == pytest.approx(600 / 10_000 / 3)
    assert trial_score([True], [3161]) == pytest.approx(1 + 3161 / 10_000 / 2)


@pytest.mark.slow
def test_real_study_is_stored_and_its_config_trains(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'study.db'}"
    out = tune(
        "--study-name",
        "s",
        "--storage",
        db,
        "--n-trials",
        "3",
        "--sampler",
        "random",
        "--pruner",
        "median",
        *TINY,
        cwd=tmp_path,
    ).stdout
    study = optuna.load_study(study_name="s", storage=db)
    assert len(study.trials) == 3
    finished = [
        t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    ]
    assert len(finished) == 3
    for t in study.trials:
        assert set(t.params) == {"one_minus_gamma", "learning_rate", "exploration_fraction", "exploration_final_eps"}
        assert len(t.intermediate_values) == (
            2 if t.state == optuna.trial.TrialState.COMPLETE else len(t.intermediate_values)
        )
        assert len(t.intermediate_values) >= 1
    assert "trial  state" in out
    results = tmp_path / "tuning-results"
    assert {p.name for p in results.iterdir()} >= {
        "best_config.yml",
        "summary.txt",
        "optimization_history.png",
        "intermediate_values.png",
    }
    # the same name resumes the study; another base config is refused, so that trials stay comparable
    tune("--study-name", "s", "--storage", db, "--n-trials", "1", "--sampler", "random", *TINY, cwd=tmp_path)
    assert len(optuna.load_study(study_name="s", storage=db).trials) == 4
    other = tune("--study-name", "s", "--storage", db, *TINY, "--hyperparams", "gamma:0.5", cwd=tmp_path, check=False)
    assert other.returncode == 2 and "study 's' was started with another run config" in other.stderr
    # no trial, only the outputs; a study can start from a hyperparams file
    (results / "summary.txt").unlink()
    tune("--study-name", "s", "--storage", db, "--n-trials", "0", *TINY, cwd=tmp_path)
    assert (results / "summary.txt").read_text().count("\n") == 5  # header and 4 trials
    train = subprocess.run(
        [
            sys.executable,
            "-m",
            "sb3_mario",
            "train",
            "--config",
            str(results / "best_config.yml"),
            "--timesteps",
            "200",
            "--n-envs",
            "1",
            "--run-dir",
            str(tmp_path / "run"),
            "--eval-freq",
            "0",
            "--no-progress-bar",
        ],
        capture_output=True,
        text=True,
    )
    assert train.returncode == 0, train.stderr[-2000:]
    assert "buffer_size: 500" in (tmp_path / "run" / "config.yaml").read_text()


@pytest.mark.slow
def test_journal_storage(tmp_path: Path):
    journal = str(tmp_path / "study.log")
    tune("--study-name", "j", "--storage", journal, "--n-trials", "1", "--pruner", "none", *TINY, cwd=tmp_path)
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(study_name="j", storage=optuna.storages.JournalStorage(JournalFileBackend(journal)))
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE]


def _postgres_bin() -> Path | None:
    for candidate in [Path("/usr/lib/postgresql/15/bin"), *(Path(p).parent for p in [shutil.which("initdb")] if p)]:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    data = Path(tempfile.mkdtemp(prefix="sb3-mario-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data}"
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data / "db"),
            "-o",
            options,
            "-l",
            str(data / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.slow
def test_two_workers_share_one_postgres_study(postgres_url: str, tmp_path: Path):
    args = [
        "tune",
        "--study-name",
        "shared",
        "--storage",
        postgres_url,
        "--n-trials",
        "2",
        "--pruner",
        "none",
        "--sampler",
        "random",
        *TINY,
    ]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "sb3_mario", *args, "-o", str(tmp_path / f"w{i}")],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    for w in workers:
        out, _ = w.communicate(timeout=600)
        assert w.returncode == 0, out[-3000:]
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 4  # no trial ran twice


def _steps(checkpoint: Path) -> int:
    meta = checkpoint / "checkpoint.json"  # written last, atomically
    return json.loads(meta.read_text())["num_timesteps"] if meta.is_file() else -1


def _worker(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sb3_mario", "tune", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _wait_for_checkpoint(worker: subprocess.Popen, checkpoint: Path, steps: int) -> None:
    deadline = time.time() + 180
    while _steps(checkpoint) < steps:
        assert worker.poll() is None and time.time() < deadline, "no checkpoint before the deadline"
        time.sleep(0.1)


@pytest.mark.slow
def test_stopped_and_killed_workers_trials_are_queued_again_and_go_on_from_their_checkpoints(
    postgres_url: str, tmp_path: Path
):
    """SIGTERM: the worker checkpoints its trial where it is and queues it again at once. SIGKILL: the
    heartbeat fails the trial after the grace period and queues it again from its last checkpoint."""
    args = [
        "--study-name", "hb", "--storage", postgres_url, "--n-trials", "1", "--pruner", "none", "--sampler", "random",
        "--heartbeat-interval", "1", "--grace-period", "3",
        *TINY, "--trial-timesteps", "900", "--n-evaluations", "3",
    ]  # fmt: skip
    checkpoint = tmp_path / "tuning-results" / "trials" / "0" / "checkpoints"
    stopped = _worker(args, tmp_path)
    _wait_for_checkpoint(stopped, checkpoint, 300)  # step 300: evaluated and checkpointed
    time.sleep(1.0)  # on to some step past it
    stopped.send_signal(signal.SIGTERM)
    out, err = stopped.communicate(timeout=120)
    assert stopped.returncode == 0, err[-3000:]
    at = _steps(checkpoint)
    assert f"trial 0 stopped by signal {int(signal.SIGTERM)} at {at} steps: queued again as trial 1" in out
    study = optuna.load_study(study_name="hb", storage=postgres_url)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.WAITING]
    first = study.trials[0]
    assert 0 in first.intermediate_values and at >= 300

    killed = _worker(args, tmp_path)
    _wait_for_checkpoint(killed, checkpoint, 600)  # trial 1 went on from step `at` to its evaluation at 600
    killed.send_signal(signal.SIGKILL)
    out = killed.communicate()[0]
    assert f"trial 1 goes on from the checkpoint of trial 0 at {at} steps" in out
    second = optuna.load_study(study_name="hb", storage=postgres_url).trials[1]
    assert second.state == optuna.trial.TrialState.RUNNING and sorted(second.intermediate_values) == [0, 1]
    time.sleep(4)  # past the grace period

    out = tune(*args, cwd=tmp_path).stdout

    study = optuna.load_study(study_name="hb", storage=postgres_url)
    assert [t.state for t in study.trials][1] == optuna.trial.TrialState.FAIL
    retry = study.trials[2]
    assert retry.system_attrs["retry_history"] == [0, 1]  # RetryHeartbeatStaleTrialCallback's record
    assert retry.state == optuna.trial.TrialState.COMPLETE and retry.params == first.params
    # it went on from the checkpoint: the evaluations before it are reported from the attempts that were cut off
    assert "trial 2 goes on from the checkpoint of trial 0 at 600 steps" in out
    assert sorted(retry.intermediate_values) == [0, 1, 2]
    assert retry.intermediate_values[0] == first.intermediate_values[0]
    assert retry.intermediate_values[1] == second.intermediate_values[1]
    assert not checkpoint.parent.exists()  # removed once the trial ended


def test_a_signal_that_arrives_as_an_evaluation_prunes_the_trial_stops_the_worker(tmp_path: Path, monkeypatch):
    """The trial ends pruned, as its evaluation decided (nothing to go on from), and the worker takes no
    other trial: the signal still stops it."""
    from sb3_mario.run.config import resolve
    from sb3_mario.tuning.objective import TrialEvalCallback
    from sb3_mario.tuning.settings import TuneSettings
    from sb3_mario.tuning.study import run_study

    evaluate = TrialEvalCallback._on_evaluation

    def signalled(self, episodes, summary):
        os.kill(os.getpid(), signal.SIGTERM)  # StopTraining's handler only records it
        return evaluate(self, episodes, summary)

    monkeypatch.setattr(TrialEvalCallback, "_on_evaluation", signalled)
    monkeypatch.setattr(optuna.trial.Trial, "should_prune", lambda self: True)
    handler = signal.getsignal(signal.SIGTERM)
    base = resolve(hyperparams={"buffer_size": 500, "learning_starts": 100}, settings={"seed": 0, "eval_episodes": 1})
    tune = TuneSettings(
        study_name="s",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        n_trials=3,
        sampler="random",
        sampler_seed=0,
        trial_timesteps=300,
        n_evaluations=2,
        output_dir=str(tmp_path / "out"),
    )

    study = run_study(base, tune)

    (trial,) = study.trials  # not 3: the worker stopped after the first
    assert trial.state == optuna.trial.TrialState.PRUNED and list(trial.intermediate_values) == [0]
    assert not (tmp_path / "out" / "trials" / "0").exists()  # a pruned trial leaves no checkpoint
    assert signal.getsignal(signal.SIGTERM) is handler


def test_bad_input_gives_one_line_and_exit_2(tmp_path: Path):
    cases = [
        (
            ["--storage", "postgresql://nobody@127.0.0.1:1/none"],
            "cannot open storage 'postgresql://nobody@127.0.0.1:1/none'",
        ),
        (["--storage", "not-a-url"], "malformed storage 'not-a-url'"),
        (["--sampler", "cmaes"], "argument --sampler: invalid choice: 'cmaes' (choose from "),
        (["--pruner", "hyperband"], "argument --pruner: invalid choice: 'hyperband' (choose from "),
        (["--n-trials", "-3"], "n-trials must be >= 0, actual value: -3"),
        (["--config", "missing.yml"], "config file not found: missing.yml"),
    ]
    for args, text in cases:
        result = tune(
            *args,
            "--storage" if "--storage" not in args else "--seed",
            "sqlite:///x.db" if "--storage" not in args else "0",
            cwd=tmp_path,
            check=False,
        )
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and text in lines[0], result.stderr
