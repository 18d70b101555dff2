"""The run config: the one merge, the file's save and load, every resume rule, the seeding rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from sb3_mario.errors import ConfigError
from sb3_mario.run.config import RunConfig, RunSettings, resolve, resume_changes, with_overrides
from sb3_mario.run.seeding import seed_for

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.needs_torch

# --- the merge ---------------------------------------------------------------------------------------


def test_resolve_merges_defaults_preset_file_and_overrides_in_that_order(tmp_path: Path):
    from sb3_mario.agent.presets import get_preset

    config = resolve(settings={"seed": 3, "eval_freq": None})
    assert config.settings == RunSettings(seed=3)  # a None override leaves the default
    assert config.hyperparams == get_preset("ddqn")

    config = resolve("article", hyperparams={"gamma": 0.99, "buffer_size": None}, settings={"algo": "dqn"})
    assert config.hyperparams == {**get_preset("article"), "gamma": 0.99}
    assert config.settings.algo == "dqn"

    path = tmp_path / "hp.yml"
    path.write_text(yaml.safe_dump({"sb3_mario/SuperMarioBros-1-2-v0": {"n_timesteps": 500, "gamma": 0.5}}))
    config = resolve(config_file=path, hyperparams={"n_timesteps": 700}, settings={"level": "1-2"})
    assert config.hyperparams == {"n_timesteps": 700, "gamma": 0.5}
    with pytest.raises(ConfigError, match="has no entry for 'sb3_mario/SuperMarioBros-1-1-v0'; it has: sb3_mario/"):
        resolve(config_file=path)
    with pytest.raises(ConfigError, match="give a preset or a config file, not both"):
        resolve("ddqn", path)


@pytest.mark.parametrize(
    ("settings", "hyperparams", "message"),
    [
        ({"eval_freq": "often"}, {}, r"setting eval_freq must be int, actual value: 'often'"),
        ({"seed": 1.5}, {}, r"setting seed must be int or null, actual value: 1.5"),
        ({"save_replay_buffer": 1}, {}, r"setting save_replay_buffer must be bool, actual value: 1"),
        ({"vec_env": "threads"}, {}, r"setting vec_env must be one of subproc, dummy, actual value: 'threads'"),
        ({"eval_episodes": 0}, {}, r"setting eval_episodes must be >= 1, actual value: 0"),
        ({"level": "9-1"}, {}, r"unknown level '9-1': valid levels are 1-1 .. 8-4, a comma-separated list"),
        ({"algo": "ppo"}, {}, r"setting algo must be one of ddqn, double_dqn, dqn, actual value: 'ppo'"),
        ({"colour": "red"}, {}, r"unknown setting 'colour': valid settings are algo, level, seed"),
    ],
)
def test_settings_of_the_wrong_type_or_unknown_are_refused_in_one_line(settings, hyperparams, message):
    with pytest.raises(ConfigError, match=message) as error:
        resolve(hyperparams=hyperparams, settings=settings)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("hyperparams", "message"),
    [
        ({"learning_rate": "fast"}, r"hyperparameter learning_rate must be a number or lin_<number> .*'fast'"),
        ({"gamma": "high"}, r"hyperparameter gamma must be a number, actual value: 'high'"),
        ({"optimize_memory_usage": "yes"}, r"hyperparameter optimize_memory_usage must be true or false"),
        ({"n_envs": 0}, r"hyperparameter n_envs must be a positive integer, actual value: 0"),
        ({"n_timesteps": 1.5}, r"hyperparameter n_timesteps must be a positive integer, actual value: 1.5"),
        ({"env_kwargs": [1]}, r"hyperparameter env_kwargs must be a mapping, actual value: \[1\]"),
        ({"learning_rat": 1e-4}, r"unknown hyperparameter 'learning_rat' for ddqn: valid keys are RL Zoo's policy"),
    ],
)
def test_hyperparams_of_the_wrong_type_or_unknown_are_refused_in_one_line(hyperparams, message):
    with pytest.raises(ConfigError, match=message):
        resolve(hyperparams=hyperparams)


def test_prioritized_replay_needs_double_dqn():
    prioritized = {"replay_buffer_kwargs": {"n_steps": 3, "priority_alpha": 0.5}}
    assert resolve(hyperparams=prioritized).split()  # ddqn: fine
    with pytest.raises(ConfigError, match=r"prioritized replay .* needs algo ddqn: dqn neither weighs its loss"):
        resolve("article", hyperparams=prioritized, settings={"algo": "dqn"}).split()


def test_dqn_with_the_ddqn_preset_names_the_options_it_lacks():
    with pytest.raises(
        ConfigError,
        match=r"^overrides: unknown hyperparameter 'average_tau' for dqn: average_tau, overlap_updates are "
        r"DoubleDQN's \(algo ddqn\); for DQN's target with them give algo ddqn and double_q:false, and SB3's DQN "
        r"takes a config without them, such as --preset article",
    ):
        resolve(settings={"algo": "dqn"})
    base = Path(__file__).resolve().parents[1] / "docs" / "configs" / "ddqn-1-1-base.yml"
    assert resolve(config_file=base, settings={"algo": "dqn"}).split().algo.__name__ == "DQN"


def test_policy_names_come_from_the_algorithms_aliases():
    from stable_baselines3.dqn.policies import CnnPolicy

    from sb3_mario.agent.policies import MarioCnnPolicy

    assert resolve(hyperparams={"policy": "MarioCnnPolicy"}).split().policy == "MarioCnnPolicy"
    dqn = {"preset": "article", "settings": {"algo": "dqn"}}
    assert resolve(hyperparams={"policy": "CnnPolicy"}, **dqn).split().policy == "CnnPolicy"
    assert resolve(**dqn).split().policy is MarioCnnPolicy  # the presets' dotted path
    with pytest.raises(ConfigError, match=r"unknown policy 'MarioCnnPolicy' for DQN: valid policies are MlpPolicy"):
        resolve(hyperparams={"policy": "MarioCnnPolicy"}, **dqn).split()
    assert CnnPolicy in MarioCnnPolicy.__mro__


# --- the file --------------------------------------------------------------------------------------


def test_the_run_config_round_trips_through_its_file(tmp_path: Path):
    config = resolve(hyperparams={"n_timesteps": 6000, "max_grad_norm": float("inf")}, settings={"seed": None})
    config.save(tmp_path)
    doc = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert set(doc) == {"settings", "hyperparams"}
    assert doc["hyperparams"]["n_timesteps"] == 6000  # the budget is stored once
    assert "n_envs" not in doc["settings"] and "run_dir" not in doc["settings"]
    assert RunConfig.load(tmp_path) == config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("settings: [unclosed\n", r"config.yaml is not valid YAML \(line 2\): expected ',' or '\]'"),
        ("- a list\n", r"config.yaml: a run config maps exactly 'settings' and 'hyperparams' to their values"),
        ("settings: {}\nhyperparams: {}\nnotes: x\n", r"maps exactly 'settings' and 'hyperparams'"),
        ("settings: 3\nhyperparams: {}\n", r"'settings' and 'hyperparams' must each be a mapping"),
    ],
)
def test_a_malformed_config_file_is_one_line(tmp_path: Path, text: str, message: str):
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message) as error:
        RunConfig.load(tmp_path)
    assert "\n" not in str(error.value)


def test_a_folder_without_config_is_not_a_run(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"is not a run folder: it has no config.yaml"):
        RunConfig.load(tmp_path)


def test_configs_of_the_earlier_layout_load_with_the_values_in_force():
    from sb3_mario.models import SHIPPED_MODEL

    config = RunConfig.read(SHIPPED_MODEL.with_suffix(".yaml"))  # settings.extra, run_dir, progress_bar
    assert config.settings.eval_freq == 25_000 and config.settings.save_replay_buffer
    assert config.n_timesteps == 2_000_000 and config.hyperparams["n_envs"] == 2
    assert config.env_kwargs == {"no_progress_steps": 300, "noop_max": 30}
    assert config.hyperparams["learning_rate"] == 1e-4
    hp = config.split()  # the old dotted path of the buffer still imports
    assert hp.model_kwargs["replay_buffer_class"].__name__ == "FrameDedupReplayBuffer"


# --- resume rules ----------------------------------------------------------------------------------


def test_resume_applies_edits_and_lists_them():
    saved = resolve()
    env_kwargs = {**saved.hyperparams["env_kwargs"], "noop_max": 10}
    edited = with_overrides(saved, {"learning_rate": 1e-4, "env_kwargs": env_kwargs}, {"eval_freq": 10})
    assert resume_changes(saved, edited, keeps_buffer=True) == [
        "settings.eval_freq: 50000 -> 10",
        "hyperparams.learning_rate: 0.00025 -> 0.0001",
        "hyperparams.env_kwargs.noop_max: 30 -> 10",
    ]
    assert resume_changes(saved, saved, keeps_buffer=True) == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"policy": "CnnPolicy"}, r"hyperparams.policy cannot change within a run"),
        ({"policy_kwargs": {"net_arch": [64]}}, r"hyperparams.policy_kwargs cannot change within a run \(None -> "),
        ({"env_kwargs": {"action_set": "simple"}}, r"hyperparams.env_kwargs.action_set cannot change within a run"),
        ({"env_kwargs": {"frame_stack": 2}}, r"hyperparams.env_kwargs.frame_stack cannot change"),
    ],
)
def test_resume_refuses_what_cannot_change_within_a_run(edit, message):
    saved = resolve()
    with pytest.raises(ConfigError, match=message):
        resume_changes(saved, with_overrides(saved, edit), keeps_buffer=False)


def test_a_kept_buffer_refuses_edits_of_what_built_it_and_a_new_buffer_takes_them():
    saved = resolve()
    for edit in (
        {"buffer_size": 200_000},
        {"n_envs": 4},
        {"replay_buffer_kwargs": {"n_steps": 5, "priority_alpha": 0.5}},
    ):
        edited = with_overrides(saved, edit)
        with pytest.raises(ConfigError, match=r"saved replay buffer was built with the old value: undo the edit, or"):
            resume_changes(saved, edited, keeps_buffer=True)
        assert len(resume_changes(saved, edited, keeps_buffer=False)) == 1


# --- the seeding rule -------------------------------------------------------------------------------


def test_the_seeding_rule():
    expected = np.random.SeedSequence(7, spawn_key=(0, 500, 0)).generate_state(1, dtype=np.uint32)[0] >> 1
    assert seed_for(7, "model", 500) == expected
    streams = [seed_for(7, s) for s in ("model", "eval", "play", "epsilon")]
    assert len(set(streams)) == 4 and all(0 <= s < 2**31 for s in streams)
    assert seed_for(7, "model", 0) != seed_for(7, "model", 500)  # a resumed segment draws new numbers
    assert seed_for(7, "eval") == seed_for(7, "eval") and seed_for(8, "eval") != seed_for(7, "eval")
    assert seed_for(None, "model", 500) is None
    with pytest.raises(ValueError, match="unknown random stream 'noise': valid streams are model, eval, play, epsilon"):
        seed_for(7, "noise")


# --- a real run, resumed with edits, on the scripted game --------------------------------------------


def tiny(**hyperparams) -> RunConfig:
    return resolve(
        hyperparams={
            "n_timesteps": 200,
            "n_envs": 1,
            "buffer_size": 300,
            "learning_starts": 50,
            "target_update_interval": 100,
            **hyperparams,
        },
        settings={"vec_env": "dummy", "eval_freq": 0, "checkpoint_freq": 100, "device": "cpu"},
    )


def test_a_resumed_run_applies_an_edited_key_and_refuses_a_fixed_one(tmp_path: Path, scripted, capsys):
    from sb3_mario.run.training import resume, train

    scripted([1.0] * 120)
    train(tiny(), tmp_path, progress_bar=False)
    meta = json.loads((tmp_path / "checkpoints" / "checkpoint.json").read_text())
    assert meta["num_timesteps"] == 200 and meta["replay_buffer"] and meta["config"] == tiny().to_dict()

    doc = yaml.safe_load((tmp_path / "config.yaml").read_text())
    doc["hyperparams"].update(n_timesteps=300, learning_rate=4e-5, exploration_final_eps=0.5)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(doc))
    model = resume(tmp_path, progress_bar=False)
    out = capsys.readouterr().out
    assert "applied from config.yaml: hyperparams.learning_rate: 0.00025 -> 4e-05" in out
    assert "applied from config.yaml: hyperparams.exploration_final_eps: 0.02 -> 0.5" in out
    assert model.num_timesteps == 300 and model.learning_rate == 4e-5
    assert model.policy.optimizer.param_groups[0]["lr"] == pytest.approx(4e-5, rel=1e-6)  # what the updates used
    # the buffer went on: 300 steps less the last of each segment, which SB3 does not store when a
    # callback stops learn() on it
    assert model.exploration_final_eps == 0.5 and model.replay_buffer.size() == 298

    doc["hyperparams"].update(n_timesteps=400, policy_kwargs={"net_arch": [32]})
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=r"^hyperparams.policy_kwargs cannot change within a run"):
        resume(tmp_path, progress_bar=False)

    doc["hyperparams"].pop("policy_kwargs")
    doc["hyperparams"]["gamma_typo"] = 0.5
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match=r"config.yaml: unknown hyperparameter 'gamma_typo' for ddqn"):
        resume(tmp_path, progress_bar=False)


def test_a_linear_learning_rate_falls_to_zero_over_the_run_budget_across_a_resume(tmp_path: Path, scripted):
    from sb3_mario.run.config import split_hyperparams
    from sb3_mario.run.training import resume, train

    schedule = split_hyperparams({"learning_rate": "lin_1e-3"}).model_kwargs["learning_rate"]
    assert [schedule(p) for p in (1.0, 0.75, 0.0)] == pytest.approx([1e-3, 7.5e-4, 0.0])
    for bad in ("lin_fast", "lin_-1e-3", "exp_1e-3", "1e-3x"):
        with pytest.raises(ConfigError, match=r"learning_rate must be a number or lin_<number>"):
            resolve(hyperparams={"learning_rate": bad})

    scripted([1.0] * 120)
    config = tiny(learning_rate="lin_1e-3", n_timesteps=400)
    assert config.hyperparams["learning_rate"] == "lin_1e-3"  # the file keeps rl_zoo3's notation
    (tmp_path / "run").mkdir()
    doc = config.to_dict()
    doc["hyperparams"]["n_timesteps"] = 200  # a first segment of 200 steps, then the whole budget
    model = train(RunConfig.from_dict(doc), tmp_path / "run", progress_bar=False)
    # SB3 sets the learning rate at each train() call: the last, after the collection that ended at
    # step 196 (train_freq 4; the one of step 200 is cut by the budget), when 4 of 200 steps remain
    assert model.policy.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 4 / 200, rel=1e-6)
    doc["hyperparams"]["n_timesteps"] = 400
    (tmp_path / "run" / "config.yaml").write_text(yaml.safe_dump(doc))
    model = resume(tmp_path / "run", progress_bar=False)
    # the same schedule over the budget of 400: at step 396, 4 of 400 steps remain
    assert model.policy.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 4 / 400, rel=1e-6)


def test_a_run_is_seeded_by_the_rule(tmp_path: Path, scripted):
    from sb3_mario.run.training import build_model

    scripted([1.0] * 120)
    model = build_model(tiny(), vec_env="dummy")
    try:
        assert model.seed == seed_for(0, "model")
        assert model.get_env()._seeds == [seed_for(0, "model")]  # SB3's VecEnv keeps the seeds of its envs
    finally:
        model.get_env().close()


def test_plotting_and_the_env_layer_import_no_torch():
    code = "import sys, sb3_mario.run.plotting, sb3_mario.run.config, sb3_mario.cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "False"
