"""A sum tree: priorities of a fixed number of slots, updated and sampled in proportion in O(log n).

The data structure of proportional prioritized replay (Schaul, Quan, Antonoglou and Silver 2016,
"Prioritized Experience Replay", Section 3.3 and Appendix B.2.1), as Dopamine's ``sum_tree.py``:
a complete binary tree in one array, whose leaves hold the priorities and whose inner nodes hold
the sums of their children. Operations take arrays of slots, so that a batch costs one pass per
level of the tree. No torch here.
"""

from __future__ import annotations

import numpy as np


class SumTree:
    """Non-negative priorities of ``capacity`` slots (all 0 at first), with their running total.

    :param capacity: number of slots
    """

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, actual value: {capacity}")
        self.capacity = capacity
        self._leaves = 1 << (capacity - 1).bit_length()  # a power of two: every leaf at one depth
        self._tree = np.zeros(2 * self._leaves, dtype=np.float64)  # node 1 is the root, node k's children 2k, 2k+1

    @property
    def total(self) -> float:
        """Sum of every slot's priority."""
        return float(self._tree[1])

    @property
    def nbytes(self) -> int:
        """Bytes held by the tree."""
        return self._tree.nbytes

    def get(self, slots: np.ndarray | list[int]) -> np.ndarray:
        """Priorities of ``slots``."""
        return self._tree[self._leaves + self._checked(slots)]

    def set(self, slots: np.ndarray | list[int], priorities: np.ndarray | list[float]) -> None:
        """Give ``slots`` these priorities (a slot named twice takes its last one) and update the sums."""
        slots = self._checked(slots)
        if not slots.size:
            return
        priorities = np.broadcast_to(np.asarray(priorities, dtype=np.float64), slots.shape)
        if not np.all(np.isfinite(priorities) & (priorities >= 0)):
            raise ValueError(f"priorities must be finite and >= 0, actual values: {priorities}")
        last = len(slots) - 1 - np.unique(slots[::-1], return_index=True)[1]  # the last mention of each slot
        nodes = slots[last] + self._leaves
        self._tree[nodes] = priorities[last]
        while nodes[0] > 1:
            nodes = np.unique(nodes // 2)
            self._tree[nodes] = self._tree[2 * nodes] + self._tree[2 * nodes + 1]

    def find(self, values: np.ndarray | list[float]) -> np.ndarray:
        """The slot where each value in [0, total) falls on the priorities laid end to end: the first slot
        whose running sum exceeds it. Never a slot of priority 0 while the total is positive (a value at
        or past the total, as rounding can make one, gives the last slot with a priority)."""
        values = np.array(values, dtype=np.float64)
        nodes = np.ones(values.shape, dtype=np.int64)
        while nodes.size and nodes[0] < self._leaves:
            left = 2 * nodes
            right_sum = self._tree[left + 1]
            go_right = (values >= self._tree[left]) & (right_sum > 0) | (self._tree[left] <= 0)
            values = np.where(go_right, values - self._tree[left], values)
            nodes = np.where(go_right, left + 1, left)
        return nodes - self._leaves

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` slots drawn in proportion to their priorities, stratified as Schaul et al. (2016,
        Appendix B.2.1): one uniform draw in each of ``n`` equal parts of the total."""
        if self.total <= 0:
            raise ValueError("cannot sample: every priority is 0")
        return self.find((np.arange(n) + rng.random(n)) * (self.total / n))

    def _checked(self, slots: np.ndarray | list[int]) -> np.ndarray:
        slots = np.asarray(slots, dtype=np.int64).reshape(-1)
        if slots.size and (slots.min() < 0 or slots.max() >= self.capacity):
            raise ValueError(f"slots must be in [0, {self.capacity}), actual values: {slots}")
        return slots
