"""Old module paths, kept importable for files written before the package had subpackages.

Model zips pickle their policy and replay buffer classes by module path
(``sb3_mario.policies.MarioCnnPolicy``), and hyperparams files name classes by dotted paths. A
finder maps each old path to its module on first import, so such zips and files load unchanged.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

#: Old module path -> its module now.
MOVED = {
    "sb3_mario.policies": "sb3_mario.agent.policies",
    "sb3_mario.double_dqn": "sb3_mario.agent.double_dqn",
    "sb3_mario.buffers": "sb3_mario.agent.buffers",
    "sb3_mario.exploration": "sb3_mario.agent.exploration",
}


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        return importlib.util.spec_from_loader(fullname, self) if fullname in MOVED else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """The module was executed under its own name."""


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(finder, _MovedFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
