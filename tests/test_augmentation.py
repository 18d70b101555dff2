"""Random shifts of observations (sb3_mario.agent.augmentation); the buffer's use of them: tests/test_buffers.py."""

from __future__ import annotations

import numpy as np

from sb3_mario.agent.augmentation import random_shift

GRID = np.arange(1, 10, dtype=np.uint8).reshape(1, 1, 3, 3)  # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_a_shift_by_hand_repeats_the_edge():
    # offsets (pad, pad) keep the frame; (0, 0) moves the content one pixel down and right; (2, 1) one up
    np.testing.assert_array_equal(random_shift(GRID, 1, np.array([[1, 1]])), GRID)
    np.testing.assert_array_equal(random_shift(GRID, 1, np.array([[0, 0]]))[0, 0], [[1, 1, 2], [1, 1, 2], [4, 4, 5]])
    np.testing.assert_array_equal(random_shift(GRID, 1, np.array([[2, 1]]))[0, 0], [[4, 5, 6], [7, 8, 9], [7, 8, 9]])
    np.testing.assert_array_equal(random_shift(GRID, 2, np.array([[4, 0]]))[0, 0], [[7, 7, 7], [7, 7, 7], [7, 7, 7]])


def test_every_frame_of_a_stack_moves_alike_and_each_observation_by_its_own_offset():
    batch = np.stack([np.stack([GRID[0, 0] + 10 * f for f in range(4)]) for _ in range(2)]).astype(np.uint8)
    shifted = random_shift(batch, 1, np.array([[0, 0], [2, 2]]))
    assert shifted.shape == batch.shape and shifted.dtype == batch.dtype
    for f in range(4):
        np.testing.assert_array_equal(shifted[0, f], np.array([[1, 1, 2], [1, 1, 2], [4, 4, 5]]) + 10 * f)
        np.testing.assert_array_equal(shifted[1, f], np.array([[5, 6, 6], [8, 9, 9], [8, 9, 9]]) + 10 * f)
    np.testing.assert_array_equal(batch[0, 0], GRID[0, 0])  # the input is left as it was


def test_drawn_offsets_cover_every_shift_up_to_pad_and_no_more():
    np.random.seed(0)
    frame = np.arange(100, dtype=np.uint8).reshape(1, 1, 10, 10)
    padded = np.pad(frame[0, 0], 2, mode="edge")
    shifts = set()
    for _ in range(300):
        out = random_shift(frame, 2)[0, 0]
        found = [(r, c) for r in range(5) for c in range(5) if np.array_equal(out, padded[r : r + 10, c : c + 10])]
        assert len(found) == 1
        shifts.add(found[0])
    assert shifts == {(r, c) for r in range(5) for c in range(5)}


def test_pad_zero_is_no_augmentation():
    assert random_shift(GRID, 0) is GRID
