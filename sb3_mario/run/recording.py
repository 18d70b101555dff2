"""Record an agent's play as a video or GIF of the full-colour 256x240 game frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sb3_mario.errors import ConfigError
from sb3_mario.run.evaluation import Episode, PlaySettings, play

#: Frames per second of a recording: one frame per agent step, 60 / frame_skip(4).
FPS = 15

#: Episodes a recording plays unless told otherwise: one, to watch.
EPISODES = 1


def record(
    model_path: str | Path,
    output: str | Path,
    play_settings: PlaySettings,
    on_episode: Any = None,
) -> dict[str, Any]:
    """Play the episodes of ``play_settings`` and write every agent step's screen to ``output`` (.mp4 or .gif).

    :return: frame count, frame shape and the episodes' results
    """
    import imageio.v2 as imageio

    output = Path(output)
    if output.suffix not in (".mp4", ".gif"):
        raise ConfigError(f"unknown output type {output.suffix!r}: use a .mp4 or .gif file")
    frames: list[np.ndarray] = []
    results: list[Episode] = play(
        model_path,
        play_settings,
        render_mode="rgb_array",
        on_frame=lambda env: frames.append(env.render()),
        on_episode=on_episode,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix == ".gif":
        imageio.mimsave(output, frames, duration=1000 / FPS, loop=0)
    else:
        imageio.mimsave(output, frames, fps=FPS, macro_block_size=16)
    return {"frames": len(frames), "shape": frames[0].shape, "episodes": results}
