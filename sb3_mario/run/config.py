"""The run config: every setting of a run, stored once, merged in one place, checked on the way in.

A run is two parts, as rl_zoo3 keeps its run arguments apart from its hyperparameters:

* :class:`RunSettings`: how the run is carried out (algorithm, level, seed, device, evaluations,
  checkpoints, logging);
* ``hyperparams``: an RL Zoo hyperparams entry, the algorithm's constructor kwargs plus RL Zoo's
  keys ``policy``, ``n_timesteps`` (the budget), ``n_envs``, ``env_kwargs`` and ``callback``.

A run folder's ``config.yaml`` is ``{"settings": ..., "hyperparams": ...}`` and nothing else; each
checkpoint keeps a copy of the config it was trained with, which ``--resume`` compares with the
file (:func:`resume_changes`). Config flows one way: :class:`RunSettings` defaults and a preset or
hyperparams file, then overrides (the command line, a tuning trial), merged by :func:`resolve`.

Hyperparams files are RL Zoo's format, ``{env_id: entry}``, as YAML or as a Python file whose
``hyperparams`` dict may hold real classes. Classes in YAML are dotted import paths
(``sb3_mario.agent.policies.MarioCNN``); strings are never evaluated. This module imports no torch:
algorithms and classes are imported when a config is split for building a model.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import inspect
import math
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from sb3_mario.env.levels import level_names
from sb3_mario.env.registration import env_id
from sb3_mario.errors import ConfigError

#: Algorithms by the names the CLI and configs use, as import paths (imported on use).
ALGOS = {
    "ddqn": "sb3_mario.agent.double_dqn.DoubleDQN",
    "double_dqn": "sb3_mario.agent.double_dqn.DoubleDQN",
    "dqn": "stable_baselines3.DQN",
}

#: Keys of the hyperparams format that are not constructor kwargs (RL Zoo's names).
ZOO_KEYS = ("policy", "n_timesteps", "n_envs", "env_kwargs", "callback")

#: Hyperparameters that cannot change within a run: the network whose weights the run trains.
FIXED_HYPERPARAMS = ("policy", "policy_kwargs")

#: ``env_kwargs`` that change the observation or action space, which the network is built for.
SPACE_ENV_KWARGS = ("action_set", "frame_size", "frame_stack")

#: Hyperparameters a saved replay buffer was built with (its size, class, layout per env).
BUFFER_HYPERPARAMS = ("buffer_size", "replay_buffer_class", "replay_buffer_kwargs", "n_envs", "n_steps")

#: The file of a run folder that holds its config.
CONFIG_FILE = "config.yaml"


def setting(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field whose help text (and choices) the command line shows with its default."""
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class RunSettings:
    """How a run is carried out; each field's help says where its default comes from.

    The command line's options of the same names take their defaults from here.
    """

    algo: str = setting("ddqn", "ddqn (our DoubleDQN) or dqn (SB3's DQN)", tuple(ALGOS))
    level: str = setting(
        "1-1", "level to play: 1-1 .. 8-4; several (1-1,1-2 or world-1, or random for all 32) draw one each episode"
    )
    seed: int | None = setting(0, "the run's seed; every random stream derives from it (sb3_mario.run.seeding)")
    device: str = setting("auto", "torch device; auto picks CUDA when there is one (SB3)")
    vec_env: str = setting("subproc", "subproc (one process per env) or dummy (one process)", ("subproc", "dummy"))
    eval_freq: int = setting(50_000, "env steps between evaluations, 0 for none")
    eval_episodes: int = setting(
        31, "episodes per evaluation: 31 plays each start of 0..30 no-op frames once (31 per level: levels in turn)"
    )
    eval_noop_max: int = setting(
        30, "evaluation episodes start with 0, 1, ..., N no-op frames in turn (30 as in Mnih et al. 2015)"
    )
    bar_episodes: int = setting(
        100,
        "when an evaluation wins every start, also play this many episodes with epsilon 0.02 and as many with "
        "sticky actions, to check the bar (sb3_mario.run.evaluation.Bar: 100 each); 0: never",
    )
    stop_at_bar: bool = setting(
        True, "stop training at the first evaluation that meets the bar: the run's goal is reached"
    )
    checkpoint_freq: int = setting(50_000, "env steps between checkpoints")
    save_replay_buffer: bool = setting(
        True, "checkpoints include the replay buffer, so --resume goes on exactly where it stopped"
    )
    log_window: int = setting(100, "episodes in the sliding window of rollout/win_rate (SB3's stats window)")
    log_block: int = setting(500, "episodes per block of rollout/block_win_rate (the tutorial plots blocks of 500)")


#: Lower bounds of the numeric settings.
_MINIMUM = {
    "eval_freq": 0,
    "eval_episodes": 1,
    "eval_noop_max": 0,
    "bar_episodes": 0,
    "checkpoint_freq": 1,
    "log_window": 1,
    "log_block": 1,
}


@dataclass
class Hyperparams:
    """A hyperparams entry split into what each consumer needs, classes imported."""

    algo: type
    policy: type | str
    n_timesteps: int
    n_envs: int
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    callback: list[Any] = field(default_factory=list)


@dataclass
class RunConfig:
    """The settings and hyperparams of a run (see the module docstring)."""

    settings: RunSettings = field(default_factory=RunSettings)
    hyperparams: dict[str, Any] = field(default_factory=dict)

    @property
    def n_timesteps(self) -> int:
        """The run's budget in env steps (``hyperparams["n_timesteps"]``)."""
        return int(self.hyperparams["n_timesteps"])

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~sb3_mario.env.make_mario_env` for the training envs."""
        return dict(self.hyperparams.get("env_kwargs") or {})

    def split(self) -> Hyperparams:
        """Import the algorithm and the classes, and split the hyperparams for building a model."""
        return split_hyperparams(self.hyperparams, self.settings.algo)

    def to_dict(self) -> dict[str, Any]:
        """The config as plain YAML data: classes become dotted names."""
        return {"settings": asdict(self.settings), "hyperparams": to_yaml_value(self.hyperparams)}

    @classmethod
    def from_dict(cls, doc: Any, where: str = "config") -> RunConfig:
        """Check and build a config from :meth:`to_dict`'s form (or the layout before it, upgraded).

        :param where: names the source in error messages (a file path)
        :raises ConfigError: one line naming the key for anything unknown, of the wrong type or out of range
        """
        if (
            not isinstance(doc, dict)
            or not {"settings", "hyperparams"} <= set(doc)
            or set(doc)
            - {
                "settings",
                "hyperparams",
            }
        ):
            raise ConfigError(f"{where}: a run config maps exactly 'settings' and 'hyperparams' to their values")
        if not isinstance(doc["settings"], dict) or not isinstance(doc["hyperparams"], dict):
            raise ConfigError(f"{where}: 'settings' and 'hyperparams' must each be a mapping")
        settings, hyperparams = _upgrade(dict(doc["settings"]), dict(doc["hyperparams"]))
        config = cls(check_settings(settings, where), normalize(hyperparams))
        check_hyperparams(config.hyperparams, config.settings.algo, where)
        return config

    def save(self, run_dir: str | Path) -> Path:
        """Write ``run_dir/config.yaml``."""
        path = Path(run_dir) / CONFIG_FILE
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
        return path

    @classmethod
    def load(cls, run_dir: str | Path) -> RunConfig:
        """Read and check ``run_dir/config.yaml``.

        :raises ConfigError: for a missing, malformed or invalid file, in one line
        """
        path = Path(run_dir) / CONFIG_FILE
        if not path.is_file():
            raise ConfigError(f"{run_dir} is not a run folder: it has no {CONFIG_FILE}")
        return cls.read(path)

    @classmethod
    def read(cls, path: str | Path) -> RunConfig:
        """Read and check a run config file (a run's ``config.yaml``, an exported model's ``.yaml``)."""
        return cls.from_dict(read_yaml(Path(path)), str(path))


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes one line naming the file and the line."""
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path} is not valid YAML{line}: {problem}") from None


def _upgrade(settings: dict[str, Any], hyperparams: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read the layout before settings were stored once: ``settings.extra`` held the envs and the
    budget in force (which win over the hyperparams' copies), ``run_dir`` and ``progress_bar`` were
    the command's arguments, not the run's."""
    if "extra" not in settings:
        return settings, hyperparams
    extra = settings.pop("extra") or {}
    settings.pop("run_dir", None)
    settings.pop("progress_bar", None)
    for old, new in (("total_timesteps", "n_timesteps"), ("n_envs", "n_envs"), ("env_kwargs", "env_kwargs")):
        if old in extra:
            hyperparams[new] = extra[old]
    return settings, hyperparams


def _type_name(hint: Any) -> str:
    names = [getattr(arg, "__name__", str(arg)) for arg in typing.get_args(hint)] or [hint.__name__]
    return " or ".join("null" if name == "NoneType" else name for name in names)


def _is_type(value: Any, hint: Any) -> bool:
    allowed = typing.get_args(hint) or (hint,)
    if isinstance(value, bool):
        return bool in allowed
    return any(value is None if t is type(None) else isinstance(value, t) for t in allowed if t is not bool)


def check_settings(values: dict[str, Any], where: str = "config") -> RunSettings:
    """Build :class:`RunSettings` from a mapping, refusing unknown keys and wrong types or values."""
    hints = typing.get_type_hints(RunSettings)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r}: valid settings are {', '.join(hints)}")
    for f in fields(RunSettings):
        if f.name not in values:
            continue
        value = values[f.name]
        if not _is_type(value, hints[f.name]):
            raise ConfigError(f"{where}: setting {f.name} must be {_type_name(hints[f.name])}, actual value: {value!r}")
        choices = f.metadata["choices"]
        if choices is not None and value not in choices:
            raise ConfigError(f"{where}: setting {f.name} must be one of {', '.join(choices)}, actual value: {value!r}")
        if f.name in _MINIMUM and value < _MINIMUM[f.name]:
            raise ConfigError(f"{where}: setting {f.name} must be >= {_MINIMUM[f.name]}, actual value: {value}")
    try:
        level_names(values.get("level", RunSettings.level))
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from None
    return RunSettings(**values)


def normalize(hyperparams: dict[str, Any]) -> dict[str, Any]:
    """A deep copy with ``"inf"`` strings as floats (YAML's ``.inf`` already is one)."""
    return {k: math.inf if v in ("inf", ".inf") else v for k, v in copy.deepcopy(hyperparams).items()}


def algo_class(name: str) -> type:
    """The algorithm class of ``ddqn``/``double_dqn``/``dqn`` (imports torch)."""
    if name not in ALGOS:
        raise ConfigError(f"unknown algo {name!r}: valid algos are {', '.join(ALGOS)}")
    return import_name(ALGOS[name])


def constructor_defaults(algo: type) -> dict[str, Any]:
    """Keyword defaults of ``algo``'s constructor, those its own ``__init__`` passes on through
    ``**kwargs`` to a base class's included (``DoubleDQN`` adds one keyword to ``DQN``'s)."""
    defaults: dict[str, Any] = {}
    for cls in reversed(algo.__mro__):
        if "__init__" in vars(cls) and cls is not object:
            for name, p in inspect.signature(cls.__init__).parameters.items():
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and name not in ("self", "policy", "env"):
                    defaults[name] = p.default
    return defaults


#: Hyperparameters that take a schedule, written as rl_zoo3 writes one: ``lin_<start>`` falls linearly from
#: ``start`` at the run's first step to 0 at its budget (``n_timesteps``, resumes included).
SCHEDULED = ("learning_rate",)


def linear_start(value: Any) -> float | None:
    """``start`` of a ``lin_<start>`` schedule (rl_zoo3's notation), or ``None`` for any other value."""
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            start = float(value[4:])
        except ValueError:
            return None
        return start if start > 0 else None
    return None


def _check_value(key: str, value: Any, default: Any, where: str) -> None:
    """Refuse a hyperparameter whose value cannot be of its constructor default's type."""
    if key in SCHEDULED and isinstance(value, str):
        if linear_start(value) is None:
            raise ConfigError(
                f"{where}: hyperparameter {key} must be a number or lin_<number> (a linear fall to 0 over the run, "
                f"as rl_zoo3 writes it), actual value: {value!r}"
            )
        return
    if isinstance(default, bool):
        ok = isinstance(value, bool)
        want = "true or false"
    elif isinstance(default, (int, float)):
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) or callable(value)
        ok = ok or (key == "train_freq" and isinstance(value, (list, tuple)) and len(value) == 2)
        want = "a number"
    elif isinstance(default, str):
        ok, want = isinstance(value, str), "a string"
    else:
        return
    if not ok:
        raise ConfigError(f"{where}: hyperparameter {key} must be {want}, actual value: {value!r}")


def check_hyperparams(hyperparams: dict[str, Any], algo: str, where: str = "config") -> None:
    """Refuse unknown keys and values of the wrong type before anything is built (imports the algorithm)."""
    defaults = constructor_defaults(algo_class(algo))
    unknown = sorted(set(hyperparams) - set(defaults) - set(ZOO_KEYS))
    if unknown and algo != "ddqn" and set(unknown) <= set(constructor_defaults(algo_class("ddqn"))):
        raise ConfigError(
            f"{where}: unknown hyperparameter {unknown[0]!r} for {algo}: {', '.join(unknown)} are DoubleDQN's "
            "(algo ddqn); for DQN's target with them give algo ddqn and double_q:false, and SB3's DQN takes a "
            "config without them, such as --preset article or --config docs/configs/ddqn-1-1-base.yml"
        )
    if unknown:
        raise ConfigError(
            f"{where}: unknown hyperparameter {unknown[0]!r} for {algo}: valid keys are RL Zoo's "
            f"{', '.join(ZOO_KEYS)} and the algorithm's {', '.join(sorted(defaults))}"
        )
    for key, value in hyperparams.items():
        if key in defaults:
            _check_value(key, value, defaults[key], where)
    for key in ("n_timesteps", "n_envs"):
        value = hyperparams.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or value != int(value):
            raise ConfigError(f"{where}: hyperparameter {key} must be a positive integer, actual value: {value!r}")
    for key in ("env_kwargs", "policy_kwargs", "replay_buffer_kwargs"):
        if not isinstance(hyperparams.get(key) or {}, dict):
            raise ConfigError(f"{where}: hyperparameter {key} must be a mapping, actual value: {hyperparams[key]!r}")
    if algo != "ddqn" and (hyperparams.get("replay_buffer_kwargs") or {}).get("priority_alpha", 0):
        raise ConfigError(
            f"{where}: prioritized replay (replay_buffer_kwargs priority_alpha > 0) needs algo ddqn: "
            f"{algo} neither weighs its loss nor updates priorities"
        )


def import_name(name: str) -> Any:
    """Return the object at a dotted path such as ``"sb3_mario.agent.policies.MarioCNN"``."""
    module, _, attr = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError(
            f"cannot import {name!r}: give a dotted path such as 'sb3_mario.agent.policies.MarioCNN'"
        ) from None


def _resolve_classes(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Replace dotted-name strings under ``*_class`` keys by the classes."""
    out = dict(kwargs)
    for key, value in kwargs.items():
        if key.endswith("_class") and isinstance(value, str):
            out[key] = import_name(value)
        elif isinstance(value, dict) and key.endswith("_kwargs"):
            out[key] = _resolve_classes(value)
    return out


def resolve_policy(policy: Any, algo: type) -> Any:
    """A policy name as the algorithm knows it (its ``policy_aliases``, as SB3 resolves them), or
    the class at a dotted path."""
    if not isinstance(policy, str):
        return policy
    if "." in policy:
        return import_name(policy)
    if policy not in algo.policy_aliases:
        raise ConfigError(
            f"unknown policy {policy!r} for {algo.__name__}: valid policies are {', '.join(algo.policy_aliases)}, "
            "or a dotted path such as sb3_mario.agent.policies.MarioCnnPolicy"
        )
    return policy


def split_hyperparams(hyperparams: dict[str, Any], algo: str = "ddqn") -> Hyperparams:
    """Split a hyperparams entry into policy, budget, model, env and callback parts, and check it."""
    algo_cls = algo_class(algo)
    hp = normalize(hyperparams)
    check_hyperparams(hp, algo)
    policy = resolve_policy(hp.pop("policy", "sb3_mario.agent.policies.MarioCnnPolicy"), algo_cls)
    policy_kwargs = _resolve_classes(hp.pop("policy_kwargs", None) or {})
    if policy_kwargs:
        hp["policy_kwargs"] = policy_kwargs
    if hp.get("replay_buffer_class"):
        hp.update(_resolve_classes({"replay_buffer_class": hp["replay_buffer_class"]}))
    n_timesteps = int(hp.pop("n_timesteps", 1_000_000))
    n_envs = int(hp.pop("n_envs", 1))
    env_kwargs = dict(hp.pop("env_kwargs", None) or {})
    callback = hp.pop("callback", None) or []
    callback = callback if isinstance(callback, list) else [callback]
    for key in SCHEDULED:
        start = linear_start(hp.get(key))
        if start is not None:
            from stable_baselines3.common.utils import LinearSchedule

            hp[key] = LinearSchedule(start, 0.0, 1.0)
    _n_step_gamma(hp, algo_cls)
    return Hyperparams(algo_cls, policy, n_timesteps, n_envs, hp, env_kwargs, callback)


def _n_step_gamma(hp: dict[str, Any], algo: type) -> None:
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
    from sb3_mario.agent.buffers import with_algorithm_gamma

    gamma = hp.get("gamma", constructor_defaults(algo)["gamma"])
    hp["replay_buffer_kwargs"] = with_algorithm_gamma(buffer_kwargs, gamma)


def read_hyperparams_file(path: str | Path, level: str) -> dict[str, Any]:
    """Read the entry of ``level``'s env id from a YAML or Python hyperparams file."""
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
        table = read_yaml(path)
    else:
        raise ConfigError(f"unknown config type {path.suffix!r}: use a .yml, .yaml or .py file")
    if not isinstance(table, dict):
        raise ConfigError(f"{path} must map env ids to hyperparams (a 'hyperparams' dict in a .py file)")
    if env_id(level) not in table:
        raise ConfigError(f"{path} has no entry for {env_id(level)!r}; it has: {', '.join(map(str, table))}")
    return dict(table[env_id(level)])


def with_overrides(
    config: RunConfig, hyperparams: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
) -> RunConfig:
    """``config`` with some hyperparams and settings replaced (``None`` values are left out), checked."""
    settings = {k: v for k, v in (settings or {}).items() if v is not None}
    new_settings = check_settings({**asdict(config.settings), **settings}, "overrides")
    hp = {**config.hyperparams, **{k: v for k, v in (hyperparams or {}).items() if v is not None}}
    hp = normalize(hp)
    check_hyperparams(hp, new_settings.algo, "overrides")
    return replace(config, settings=new_settings, hyperparams=hp)


def resolve(
    preset: str | None = None,
    config_file: str | Path | None = None,
    hyperparams: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> RunConfig:
    """The one merge: :class:`RunSettings` defaults, a preset or a hyperparams file, then overrides.

    :param preset: a preset name (:data:`~sb3_mario.agent.presets.PRESETS`); the default preset
        when neither it nor ``config_file`` is given
    :param config_file: a hyperparams file (YAML or Python); its entry for the settings' level is used
    :param hyperparams: hyperparams that replace the preset's or file's (``None`` values ignored)
    :param settings: :class:`RunSettings` fields that replace the defaults (``None`` values ignored)
    """
    from sb3_mario.agent.presets import DEFAULT_PRESET, get_preset

    if preset is not None and config_file is not None:
        raise ConfigError("give a preset or a config file, not both")
    base_settings = check_settings({k: v for k, v in (settings or {}).items() if v is not None}, "settings")
    if config_file is not None:
        base = read_hyperparams_file(config_file, base_settings.level)
        check_hyperparams(normalize(base), base_settings.algo, str(config_file))
    else:
        base = get_preset(preset or DEFAULT_PRESET)
    return with_overrides(RunConfig(base_settings, normalize(base)), hyperparams)


def _flatten(config: RunConfig) -> dict[str, Any]:
    """``settings.<key>``, ``hyperparams.<key>`` and ``hyperparams.env_kwargs.<key>`` of a config."""
    doc = config.to_dict()
    flat = {f"settings.{k}": v for k, v in doc["settings"].items()}
    for key, value in doc["hyperparams"].items():
        if key == "env_kwargs":
            flat.update({f"hyperparams.env_kwargs.{k}": v for k, v in (value or {}).items()})
        else:
            flat[f"hyperparams.{key}"] = value
    return flat


def resume_changes(saved: RunConfig, edited: RunConfig, keeps_buffer: bool) -> list[str]:
    """The edits made to a run's config since its checkpoint, as ``key: old -> new`` lines.

    Every edit is applied by ``--resume`` except those refused here, with one line that names the key:
    the network (:data:`FIXED_HYPERPARAMS`), the observation and action spaces it was built for
    (:data:`SPACE_ENV_KWARGS`), and, while the checkpoint's replay buffer is kept, what the buffer was
    built with (:data:`BUFFER_HYPERPARAMS`).

    :param saved: the config the checkpoint was trained with
    :param edited: the config as it is now
    :param keeps_buffer: the resume loads the checkpoint's replay buffer
    :raises ConfigError: for an edit that cannot be applied within a run
    """
    before, after = _flatten(saved), _flatten(edited)
    changes = []
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = key.rsplit(".", 1)[-1]
        if name in FIXED_HYPERPARAMS or (key.startswith("hyperparams.env_kwargs.") and name in SPACE_ENV_KWARGS):
            raise ConfigError(
                f"{key} cannot change within a run ({old!r} -> {new!r}): the network was built for it; "
                "start a new run with the new value"
            )
        if keeps_buffer and key.startswith("hyperparams.") and name in BUFFER_HYPERPARAMS:
            raise ConfigError(
                f"{key} changed ({old!r} -> {new!r}) but the saved replay buffer was built with the old value: "
                "undo the edit, or delete checkpoints/replay_buffer.pkl to start a new buffer"
            )
        changes.append(f"{key}: {old!r} -> {new!r}")
    return changes


def build_callbacks(specs: list[Any]) -> list[Any]:
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
    """A hyperparams value as plain YAML: classes become dotted names."""
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, dict):
        return {k: to_yaml_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_yaml_value(v) for v in value]
    return value
