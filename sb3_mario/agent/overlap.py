"""Gradient updates that overlap the next env steps, for SB3's off-policy loop.

SB3's ``learn()`` alternates: collect ``train_freq`` env steps, then run ``gradient_steps`` updates,
each waiting for the other. With overlap, ``train()`` samples all its batches at once in the calling
thread, starts the updates on a worker thread and returns, so that the next collection steps the envs
while the learner computes. That collection acts with a copy of the network taken when the updates
started: the acting weights are at most one ``train()`` call old. The random streams are drawn in the
same order as in the synchronous loop (batches in ``train()``, epsilon and random actions while
collecting), so with fixed weights (learning rate 0) both loops store identical transitions.

Everything else sees the learning network only once the updates in flight are done: the next
``train()``, a target-network copy, a forward pass of the network from any thread but the worker
(``predict``, evaluation callbacks, :class:`sb3_mario.run.evaluation.Player`), ``save``,
``get_parameters``, ``set_parameters`` and the end of ``learn()``. The network must not behave
differently in train and eval mode (no batch norm, no dropout), as no DQN policy of SB3 does: the
collection switches the policy to eval mode while the updates run.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import torch as th
from torch import nn


class BackgroundUpdates:
    """One call's updates at a time on a worker thread.

    :param network: the learning network: a forward pass of it from any other thread first waits for
        the updates in flight
    """

    def __init__(self, network: nn.Module):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sb3-mario-updates")
        self._future: Future | None = None
        self._worker: int | None = None
        self._hook = network.register_forward_pre_hook(_WaitHook(self))

    def start(self, updates: Callable[[], Any]) -> None:
        """Run ``updates()`` on the worker thread, with the calling thread's number of torch threads;
        the previous call's result must have been taken."""
        if self._future is not None:
            raise RuntimeError("the previous updates are in flight: take their result with result() first")
        self._future = self._executor.submit(self._run, updates, th.get_num_threads())

    def _run(self, updates: Callable[[], Any], threads: int) -> Any:
        self._worker = threading.get_ident()
        if th.get_num_threads() != threads:  # a thread keeps the count torch had when it first ran an op
            th.set_num_threads(threads)
        return updates()

    def join(self) -> None:
        """Wait until the updates in flight are done (their result stays for :meth:`result`); re-raise
        their error."""
        if self._future is not None:
            self._future.result()

    def result(self) -> Any:
        """Wait for the updates in flight and hand over their result (``None`` when none were started)."""
        future, self._future = self._future, None
        return None if future is None else future.result()

    def in_worker(self) -> bool:
        """Whether the calling thread is the worker, whose forward passes must not wait for themselves."""
        return threading.get_ident() == self._worker

    def close(self) -> Any:
        """Hand over the last result, remove the forward hook and stop the worker thread."""
        try:
            return self.result()
        finally:
            self._hook.remove()
            self._executor.shutdown(wait=True)


class _WaitHook:
    """Forward pre-hook: callers other than the worker wait for the updates in flight. It holds its
    :class:`BackgroundUpdates` weakly, so that a deep copy of the network copies no thread."""

    def __init__(self, updates: BackgroundUpdates):
        self._updates = weakref.ref(updates)

    def __call__(self, module: nn.Module, args: Any) -> None:
        updates = self._updates()
        if updates is not None and not updates.in_worker():
            updates.join()


def acting_copy(network: nn.Module) -> nn.Module:
    """A copy of ``network`` without gradients, to act with while the original learns."""
    return copy.deepcopy(network).requires_grad_(False)


def copy_weights(source: nn.Module, target: nn.Module) -> None:
    """Copy ``source``'s parameters and buffers into ``target``, of the same architecture, in place."""
    with th.no_grad():
        for s, t in zip(source.state_dict().values(), target.state_dict().values(), strict=True):
            t.copy_(s)
