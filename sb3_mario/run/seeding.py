"""The one seeding rule of sb3-mario.

A run's ``seed`` S seeds each random stream of the run through NumPy's ``SeedSequence``, keyed by
the stream's name, the env step at which the segment starts and an index::

    seed_for(S, stream, step, index) = SeedSequence(S, spawn_key=(STREAMS[stream], step, index)) -> 32 bits

* ``"model"``: the model and its training envs: SB3's ``set_random_seed`` seeds torch, NumPy,
  ``random``, the action space (warm-up and epsilon-greedy actions) and training env ``i`` with the
  seed ``+ i`` (SB3's convention of consecutive env seeds);
* ``"eval"``: the evaluation env of a run or a tuning trial;
* ``"play"`` and ``"epsilon"``: the env and the random actions of ``evaluate`` and ``record``.

``step`` is the env step at which a segment starts: 0 for a new run, the checkpoint's step for a
resumed one, so a resumed run draws new numbers instead of replaying its first segment's. Streams
never share seeds, whatever S. A ``None`` seed leaves every stream unseeded.
"""

from __future__ import annotations

import numpy as np

#: The random streams of a run, by name.
STREAMS = {"model": 0, "eval": 1, "play": 2, "epsilon": 3}


def seed_for(seed: int | None, stream: str, step: int = 0, index: int = 0) -> int | None:
    """The seed of one random stream of a run (see the module docstring); ``None`` for ``seed=None``.

    :param seed: the run's seed
    :param stream: one of :data:`STREAMS`
    :param step: env step at which the segment starts
    :param index: index within the stream
    """
    if stream not in STREAMS:
        raise ValueError(f"unknown random stream {stream!r}: valid streams are {', '.join(STREAMS)}")
    if seed is None:
        return None
    sequence = np.random.SeedSequence(seed, spawn_key=(STREAMS[stream], step, index))
    # 31 bits: with SB3's "+ i" per env the seeds stay below 2**32, as gymnasium requires
    return int(sequence.generate_state(1, dtype=np.uint32)[0] >> 1)
