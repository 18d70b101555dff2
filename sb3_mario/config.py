"""Hyperparameter files and presets, turned into what ``learn()`` needs.

A config is RL Zoo's hyperparams format: ``{env_id: {constructor kwargs + zoo keys}}`` in a YAML
file, or a Python file whose ``hyperparams`` dict holds the same with real classes (the form
rl_zoo3 accepts for ``policy_kwargs`` holding classes). Names of classes in YAML are dotted
import paths (``sb3_mario.policies.MarioCNN``); strings are never evaluated.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from stable_baselines3 import DQN
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.dqn.policies import CnnPolicy, MlpPolicy

from sb3_mario.double_dqn import DoubleDQN
from sb3_mario.policies import MarioCnnPolicy

#: Algorithms by the names the CLI and configs use.
ALGOS: dict[str, type[BaseAlgorithm]] = {"ddqn": DoubleDQN, "double_dqn": DoubleDQN, "dqn": DQN}

#: Policies by name, for both algorithms (stock DQN does not know "MarioCnnPolicy").
POLICIES: dict[str, type] = {"MarioCnnPolicy": MarioCnnPolicy, "CnnPolicy": CnnPolicy, "MlpPolicy": MlpPolicy}

#: Keys of the hyperparams format that are not constructor kwargs (RL Zoo's names).
ZOO_KEYS = ("policy", "n_timesteps", "n_envs", "env_kwargs", "callback")


class ConfigError(ValueError):
    """A config that cannot be used; the message says what is wrong and what is valid."""


@dataclass
class Hyperparams:
    """A hyperparams entry split into what each consumer needs."""

    policy: type
    n_timesteps: int
    n_envs: int
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    callback: list[Any] = field(default_factory=list)


def import_name(name: str) -> Any:
    """Return the object at a dotted path such as ``"sb3_mario.policies.MarioCNN"``."""
    module, _, attr = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError(f"cannot import {name!r}: give a dotted path such as 'sb3_mario.policies.MarioCNN'") from None


def get_algo(name: str) -> type[BaseAlgorithm]:
    """Return the algorithm class for ``ddqn``/``double_dqn``/``dqn``."""
    if name not in ALGOS:
        raise ConfigError(f"unknown algo {name!r}: valid algos are {', '.join(ALGOS)}")
    return ALGOS[name]


def load_config(path: str | Path, env_id: str) -> dict[str, Any]:
    """Read the entry for ``env_id`` from a YAML or Python hyperparams file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    if path.suffix == ".py":
        spec = importlib.util.spec_from_file_location(f"_sb3_mario_config_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        table = getattr(module, "hyperparams", None)
    elif path.suffix in (".yml", ".yaml"):
        try:
            table = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise ConfigError(f"{path} is not valid YAML: {str(e).splitlines()[0]}") from None
    else:
        raise ConfigError(f"unknown config type {path.suffix!r}: use a .yml, .yaml or .py file")
    if not isinstance(table, dict):
        raise ConfigError(f"{path} must map env ids to hyperparams (a 'hyperparams' dict in a .py file)")
    if env_id not in table:
        raise ConfigError(f"{path} has no entry for {env_id!r}; it has: {', '.join(map(str, table))}")
    return dict(table[env_id])


def _resolve_classes(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Replace dotted-name strings under ``*_class`` keys by the classes."""
    out = dict(kwargs)
    for key, value in kwargs.items():
        if key.endswith("_class") and isinstance(value, str):
            out[key] = import_name(value)
        elif isinstance(value, dict) and key.endswith("_kwargs"):
            out[key] = _resolve_classes(value)
    return out


def split_hyperparams(hyperparams: dict[str, Any], algo: type[BaseAlgorithm]) -> Hyperparams:
    """Split a hyperparams entry into policy, budget, model, env and callback parts, and check it."""
    hp = dict(hyperparams)
    policy = hp.pop("policy", "MarioCnnPolicy")
    if isinstance(policy, str) and "." in policy:
        policy = import_name(policy)
    elif isinstance(policy, str):
        if policy not in POLICIES:
            raise ConfigError(f"unknown policy {policy!r}: valid policies are {', '.join(POLICIES)}")
        policy = POLICIES[policy]
    policy_kwargs = hp.get("policy_kwargs", {})
    if not isinstance(policy_kwargs, dict):
        raise ConfigError("policy_kwargs must be a mapping (sb3-mario never evaluates strings)")
    hp["policy_kwargs"] = _resolve_classes(policy_kwargs)
    if not hp["policy_kwargs"]:
        del hp["policy_kwargs"]
    if hp.get("replay_buffer_class"):
        hp.update(_resolve_classes({"replay_buffer_class": hp["replay_buffer_class"]}))
    hp = {k: (math.inf if v in ("inf", ".inf") else v) for k, v in hp.items()}
    n_timesteps = int(float(hp.pop("n_timesteps", 1_000_000)))
    n_envs = int(hp.pop("n_envs", 1))
    env_kwargs = dict(hp.pop("env_kwargs", None) or {})
    callback = hp.pop("callback", None) or []
    callback = callback if isinstance(callback, list) else [callback]
    valid = set(algo.__init__.__code__.co_varnames[: algo.__init__.__code__.co_argcount]) - {"self", "policy", "env"}
    unknown = sorted(set(hp) - valid)
    if unknown:
        raise ConfigError(f"unknown hyperparameters for {algo.__name__}: {', '.join(unknown)}")
    if n_timesteps <= 0 or n_envs <= 0:
        raise ConfigError(f"n_timesteps and n_envs must be positive, actual values: {n_timesteps}, {n_envs}")
    _n_step_gamma(hp, algo)
    return Hyperparams(policy, n_timesteps, n_envs, hp, env_kwargs, callback)


def _n_step_gamma(hp: dict[str, Any], algo: type[BaseAlgorithm]) -> None:
    """Give an n-step ``replay_buffer_kwargs`` the algorithm's ``gamma``, in place.

    An n-step buffer discounts its sums with its own ``gamma``: it is filled in from the
    algorithm's (so a tuned or overridden ``gamma`` reaches it), and one that differs is refused. SB3
    ignores ``n_steps`` (with a warning) when a ``replay_buffer_class`` is given: that is refused too.
    """
    buffer_kwargs = dict(hp.get("replay_buffer_kwargs") or {})
    if hp.get("n_steps", 1) > 1 and hp.get("replay_buffer_class") and "n_steps" not in buffer_kwargs:
        raise ConfigError(
            f"n_steps: {hp['n_steps']} is ignored with a replay_buffer_class: "
            f"give replay_buffer_kwargs: {{n_steps: {hp['n_steps']}}} instead"
        )
    if buffer_kwargs.get("n_steps", 1) <= 1:
        return
    gamma = hp.get("gamma", inspect.signature(algo).parameters["gamma"].default)
    if buffer_kwargs.setdefault("gamma", gamma) != gamma:
        raise ConfigError(
            f"replay_buffer_kwargs gamma must equal the algorithm's gamma ({gamma}), "
            f"actual value: {buffer_kwargs['gamma']} (leave it out: the algorithm's is used)"
        )
    hp["replay_buffer_kwargs"] = buffer_kwargs


def build_callbacks(specs: list[Any]) -> list[BaseCallback]:
    """Build callbacks from RL Zoo specs: ``"pkg.Class"`` or ``{"pkg.Class": {kwargs}}``."""
    callbacks = []
    for spec in specs:
        if isinstance(spec, str):
            callbacks.append(import_name(spec)())
        elif isinstance(spec, dict) and len(spec) == 1:
            ((name, kwargs),) = spec.items()
            callbacks.append(import_name(name)(**(kwargs or {})))
        else:
            raise ConfigError(f"a callback is 'pkg.Class' or {{'pkg.Class': {{kwargs}}}}, actual: {spec!r}")
    return callbacks


def to_yaml_value(value: Any) -> Any:
    """A hyperparams value as plain YAML: classes become dotted names, policies their names."""
    if isinstance(value, type):
        names = {cls: name for name, cls in POLICIES.items()}
        return names.get(value, f"{value.__module__}.{value.__qualname__}")
    if isinstance(value, dict):
        return {k: to_yaml_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_yaml_value(v) for v in value]
    return value
