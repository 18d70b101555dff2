"""The torch threads of each kind of process that the command line starts."""

from __future__ import annotations

import os

#: Variables through which a user sets torch's threads; when one is set, sb3-mario leaves them alone.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


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
