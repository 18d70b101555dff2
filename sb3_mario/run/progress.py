"""Progress of long commands, and the torch threads of each kind of process.

Progress is shown as SB3's ``progress_bar=True`` shows training's: a tqdm + rich bar on a terminal, the
running figures in its description. When the output is not a terminal (CI logs, ``nohup``), each step is
one plain line instead, so logs stay readable; ``--no-progress-bar`` turns both off.
"""

from __future__ import annotations

import os
import sys
from time import monotonic
from typing import Any, TextIO

#: Variables through which a user sets torch's threads; when one is set, sb3-mario leaves them alone.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


class Progress:
    """Count the units of some long work: a tqdm bar on a terminal, plain lines elsewhere.

    :param total: units of work (``None`` when unknown)
    :param desc: what is counted, shown first
    :param enabled: ``False`` shows nothing
    :param stream: where the bar or lines go; a terminal gets the bar
    """

    def __init__(self, total: int | None, desc: str, enabled: bool = True, stream: TextIO | None = None):
        self.total = total
        self.desc = desc
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stdout
        self.done = 0
        self.start = monotonic()
        self._bar: Any = None
        if enabled and self.stream.isatty():
            from tqdm.rich import tqdm

            self._bar = tqdm(total=total, desc=desc, file=self.stream)

    def eta(self) -> float | None:
        """Seconds left at the pace so far, ``None`` before the first unit or without a total."""
        if self.total is None or self.done == 0:
            return None
        return (monotonic() - self.start) / self.done * (self.total - self.done)

    def update(self, status: str, n: int = 1) -> None:
        """Count ``n`` more units done and show ``status`` (the running figures) beside the count."""
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_description_str(f"{self.desc}: {status}", refresh=False)
            self._bar.update(n)
            return
        of = f"/{self.total}" if self.total is not None else ""
        eta = self.eta()
        left = f", about {format_duration(eta)} left" if eta is not None and self.done != self.total else ""
        print(f"{self.desc} {self.done}{of}: {status}{left}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def format_duration(seconds: float) -> str:
    """``1h 05m``, ``4m 10s`` or ``12s``."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def set_torch_threads(kind: str) -> int | None:
    """Give torch the intra-op threads that suit a kind of process, unless the user chose them.

    * ``"act"`` (``evaluate``, ``record``, tuning workers): one thread. Acting on one observation at a
      time gains little from more, and torch's OpenMP threads spin while they wait, taking cores from
      whatever runs beside (docs/benchmarks.md measures both).
    * ``"learn"`` (``train``): every core. SB3's loop is synchronous: the env workers wait while the
      learner updates, so the updates may use the cores the workers step on (measured faster than one
      thread with 2 env workers on 2 cores, docs/benchmarks.md).

    A user's ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` wins: then nothing is changed. Library
    functions never call this; the command line does, so ``torch.set_num_threads`` in a user's own
    code is never overridden.

    :param kind: ``"act"`` or ``"learn"``
    :return: the threads set, or ``None`` when the user's setting was kept
    """
    if kind not in ("act", "learn"):
        raise ValueError(f"unknown kind of process {kind!r}: valid kinds are act, learn")
    if any(os.environ.get(name) for name in THREAD_VARIABLES):
        return None
    import torch

    threads = 1 if kind == "act" else os.cpu_count() or 1
    torch.set_num_threads(threads)
    return threads
