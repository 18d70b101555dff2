"""The sum tree of prioritized replay: exact sums, searches and stratified draws on hand-set priorities."""

from __future__ import annotations

import numpy as np
import pytest

from sb3_mario.agent.sum_tree import SumTree


def test_sums_follow_every_update_and_a_slot_named_twice_takes_its_last_priority():
    tree = SumTree(5)  # not a power of two: three padding leaves that never hold anything
    assert tree.total == 0.0
    tree.set([0, 2, 4], [1.0, 2.0, 4.0])
    assert tree.total == 7.0
    tree.set([2, 2, 3], [8.0, 0.5, 16.0])
    np.testing.assert_array_equal(tree.get([0, 1, 2, 3, 4]), [1.0, 0.0, 0.5, 16.0, 4.0])
    assert tree.total == 21.5
    tree.set([], [])  # nothing to do
    assert tree.total == 21.5


def test_the_sums_stay_exact_over_many_random_updates():
    rng = np.random.default_rng(0)
    tree = SumTree(1000)
    leaves = np.zeros(1000)
    for _ in range(300):
        slots = rng.integers(0, 1000, size=32)
        priorities = rng.random(32) ** 2
        tree.set(slots, priorities)
        for slot, priority in zip(slots, priorities, strict=True):
            leaves[slot] = priority
    np.testing.assert_array_equal(tree.get(np.arange(1000)), leaves)
    assert tree.total == pytest.approx(leaves.sum(), rel=1e-12)


def test_a_value_falls_in_the_slot_whose_running_sum_first_exceeds_it():
    tree = SumTree(4)
    tree.set([0, 1, 2, 3], [1.0, 0.0, 2.0, 3.0])  # running sums 1, 1, 3, 6
    found = tree.find([0.0, 0.999, 1.0, 2.5, 2.999, 3.0, 5.999])
    np.testing.assert_array_equal(found, [0, 0, 2, 2, 2, 3, 3])
    # at or past the total (rounding can give one): the last slot with a priority, never an empty one
    np.testing.assert_array_equal(tree.find([6.0, 7.5]), [3, 3])
    tree.set([3], [0.0])
    np.testing.assert_array_equal(tree.find([3.0, 100.0]), [2, 2])
    np.testing.assert_array_equal(tree.find([0.5]), [0])


def test_stratified_draws_take_one_value_in_each_equal_part_of_the_total():
    tree = SumTree(4)
    tree.set([0, 1, 2, 3], [1.0, 0.0, 2.0, 3.0])
    for seed in range(5):  # parts [0, 1), [1, 2), ... [5, 6): the slots are the same whatever the draws
        np.testing.assert_array_equal(tree.sample(6, np.random.default_rng(seed)), [0, 2, 2, 3, 3, 3])
    rng = np.random.default_rng(1)
    expected = SumTree(4)
    expected.set([0, 1, 2, 3], [1.0, 0.0, 2.0, 3.0])
    values = (np.arange(4) + np.random.default_rng(1).random(4)) * 1.5
    np.testing.assert_array_equal(tree.sample(4, rng), expected.find(values))


def test_draws_follow_the_priorities():
    tree = SumTree(3)
    tree.set([0, 1, 2], [1.0, 3.0, 6.0])
    counts = np.bincount(tree.sample(10_000, np.random.default_rng(0)), minlength=3)
    np.testing.assert_array_equal(counts, [1_000, 3_000, 6_000])  # stratified: exact when the parts align


def test_one_slot_and_bad_arguments():
    tree = SumTree(1)
    tree.set([0], [2.0])
    assert tree.total == 2.0 and list(tree.sample(3, np.random.default_rng(0))) == [0, 0, 0]
    with pytest.raises(ValueError, match="capacity must be >= 1, actual value: 0"):
        SumTree(0)
    with pytest.raises(ValueError, match=r"slots must be in \[0, 1\), actual values: \[1\]"):
        tree.set([1], [1.0])
    with pytest.raises(ValueError, match="priorities must be finite and >= 0"):
        tree.set([0], [-1.0])
    with pytest.raises(ValueError, match="priorities must be finite and >= 0"):
        tree.set([0], [np.nan])
    with pytest.raises(ValueError, match="cannot sample: every priority is 0"):
        SumTree(3).sample(1, np.random.default_rng(0))
