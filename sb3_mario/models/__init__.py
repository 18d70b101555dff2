"""Models shipped with sb3-mario."""

from pathlib import Path

#: DoubleDQN trained on World 1-1 (see docs/results.md); ``sb3-mario evaluate``/``record`` default.
SHIPPED_MODEL = Path(__file__).parent / "ddqn-1-1.zip"
