"""Models shipped with sb3-mario: ``ddqn-<level>.zip``, each with its run config as ``ddqn-<level>.yaml``.

``sb3-mario evaluate`` and ``record`` play the shipped model of ``--level`` (1-1 by default) when no
model is given. docs/results.md tells how each was trained.
"""

from __future__ import annotations

from pathlib import Path

from sb3_mario.errors import ConfigError

#: Where the shipped models lie.
MODELS_DIR = Path(__file__).parent

#: The level played when none is named.
DEFAULT_LEVEL = "1-1"


def shipped_models(folder: Path = MODELS_DIR) -> dict[str, Path]:
    """The shipped model zips by the level they play (the ``<level>`` of ``ddqn-<level>.zip``)."""
    return {path.stem.removeprefix("ddqn-"): path for path in sorted(folder.glob("ddqn-*.zip"))}


def shipped_model(level: str | None = None, folder: Path = MODELS_DIR) -> Path:
    """The shipped model of ``level`` (:data:`DEFAULT_LEVEL` when ``None``).

    :raises ConfigError: naming the levels that have a shipped model, when ``level`` has none
    """
    level = level or DEFAULT_LEVEL
    models = shipped_models(folder)
    if level not in models:
        have = ", ".join(models) if models else "none"
        raise ConfigError(f"no shipped model plays level {level}: the levels with one are {have}; pass a model zip")
    return models[level]


#: DoubleDQN trained on World 1-1 (see docs/results.md).
SHIPPED_MODEL = MODELS_DIR / f"ddqn-{DEFAULT_LEVEL}.zip"
