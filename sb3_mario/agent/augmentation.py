"""Random shifts of sampled observations: DrQ's image augmentation (Kostrikov, Yarats and Fergus 2020).

Each observation of a batch is padded by ``pad`` pixels on every side, repeating its edge pixels, and cropped
back to its size at a random offset: a shift of up to ``pad`` pixels in each direction, the same for every frame
of its stack. DrQ and DrQ(eps) on Atari use ``pad=4`` on 84x84 frames (Dopamine's
``labs/atari_100k`` ``drq_image_augmentation``). :class:`~sb3_mario.agent.buffers.FrameDedupReplayBuffer`
applies it to the observations and, independently, to the next observations of every batch it samples.
"""

from __future__ import annotations

import numpy as np


def random_shift(batch: np.ndarray, pad: int, offsets: np.ndarray | None = None) -> np.ndarray:
    """Shift each ``(stack, height, width)`` observation of ``batch`` by up to ``pad`` pixels, edge padded.

    :param batch: ``(batch, stack, height, width)`` observations
    :param pad: the largest shift, in pixels; 0 returns ``batch`` itself
    :param offsets: ``(batch, 2)`` crop offsets (row, column) in ``0..2 * pad``, where ``pad`` is no shift;
        drawn from ``np.random`` (uniform) when not given, so that SB3's seeding makes them reproducible
    :return: the shifted observations, a new array of ``batch``'s shape and dtype
    """
    if pad == 0:
        return batch
    n, _, height, width = batch.shape
    if offsets is None:
        offsets = np.random.randint(0, 2 * pad + 1, size=(n, 2))
    padded = np.pad(batch, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="edge")
    shifted = np.empty_like(batch)
    for k, (row, col) in enumerate(offsets):  # per-sample slices: faster than one fancy-index gather
        shifted[k] = padded[k, :, row : row + height, col : col + width]
    return shifted
