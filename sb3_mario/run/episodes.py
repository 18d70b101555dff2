"""A run's ``episodes.csv``: one row per training episode, read by plots and resumes. No torch."""

from __future__ import annotations

import csv
import os
from pathlib import Path

#: Columns of ``episodes.csv``.
EPISODE_FIELDS = ("episode", "timestep", "reward", "length", "win", "x_pos", "level", "wall_time")


def read_episodes(csv_path: str | Path) -> list[dict[str, str]]:
    """Return the rows of an episode CSV, or ``[]`` when there is none."""
    path = Path(csv_path)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def wall_times(rows: list[dict[str, str]]) -> list[float]:
    """Seconds of training at the end of each episode, counted over the run's segments.

    ``wall_time`` carries on across resumes; in runs logged before it did, each segment's clock
    started again at 0, so a drop adds the previous episode's time to the rest.
    """
    times, offset, previous = [], 0.0, 0.0
    for row in rows:
        t = float(row["wall_time"])
        if t < previous:  # an older run's new segment: its clock restarted
            offset += previous
        previous = t
        times.append(t + offset)
    return times


def truncate_episodes(csv_path: str | Path, max_timestep: int) -> None:
    """Drop the rows of episodes that ended after ``max_timestep`` (replayed after a resume)."""
    path = Path(csv_path)
    keep = [row for row in read_episodes(path) if int(row["timestep"]) <= max_timestep]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=EPISODE_FIELDS)
        writer.writeheader()
        writer.writerows(keep)
    os.replace(tmp, path)
