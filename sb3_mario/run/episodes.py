"""A run's ``episodes.csv``: one row per training episode, read by plots and resumes. No torch."""

from __future__ import annotations

import csv
import os
from pathlib import Path

#: Columns of ``episodes.csv``. ``replayed_frames``: frames replayed before the episode began part-way
#: along an earlier one (``replay_start_probability``), 0 for an episode from the game's start; files
#: written before the column existed read as 0.
EPISODE_FIELDS = ("episode", "timestep", "reward", "length", "win", "x_pos", "level", "wall_time", "replayed_frames")


def read_episodes(csv_path: str | Path) -> list[dict[str, str]]:
    """Return the rows of an episode CSV, or ``[]`` when there is none."""
    path = Path(csv_path)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def from_start(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The episodes that began at the game's start, not part-way along an earlier one: the ones
    whose wins and rewards compare with evaluations and with runs without replayed starts."""
    return [row for row in rows if not int(row.get("replayed_frames") or 0)]


def wall_times(rows: list[dict[str, str]]) -> list[float]:
    """Seconds of training at the end of each episode, counted over the run's segments.

    ``wall_time`` carries on across resumes; in runs logged before it did, each segment's clock
    started again at 0, so a fall below half the previous episode's time adds that time to the rest.
    A smaller fall is a resume that carried the clock on from the last episode from the game's start
    instead of the last episode (as runs with replayed starts logged before that was fixed): seconds,
    kept as they are.
    """
    times, offset, previous = [], 0.0, 0.0
    for row in rows:
        t = float(row["wall_time"])
        if t < previous / 2:  # an older run's new segment: its clock restarted
            offset += previous
        previous = t
        times.append(t + offset)
    return times


def truncate_episodes(csv_path: str | Path, max_timestep: int) -> None:
    """Drop the rows of episodes that ended after ``max_timestep`` (replayed after a resume), and
    write the file with today's columns (:data:`EPISODE_FIELDS`), so that a resume appends rows that fit."""
    path = Path(csv_path)
    keep = [row for row in read_episodes(path) if int(row["timestep"]) <= max_timestep]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=EPISODE_FIELDS, restval=0, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(keep)
    os.replace(tmp, path)
