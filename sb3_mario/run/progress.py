"""Progress of long commands.

Progress is shown as SB3's ``progress_bar=True`` shows training's: a tqdm + rich bar on a terminal, the
running figures in its description. When the output is not a terminal (CI logs, ``nohup``), each step is
one plain line instead, so logs stay readable; ``--no-progress-bar`` turns both off.
"""

from __future__ import annotations

import sys
from time import monotonic
from typing import Any, TextIO


class Progress:
    """Count the units of some long work: a tqdm bar on a terminal, plain lines elsewhere.

    :param total: units of work (``None`` when unknown)
    :param desc: what is counted, shown first
    :param enabled: ``False`` shows nothing
    :param stream: where the bar or lines go; a terminal gets the bar
    """

    def __init__(self, total: int | None, desc: str, enabled: bool = True, stream: TextIO | None = None):
        self.total = total
        self.desc = desc
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stdout
        self.done = 0
        self.start = monotonic()
        self._bar: Any = None
        if enabled and self.stream.isatty():
            from tqdm.rich import tqdm

            self._bar = tqdm(total=total, desc=desc, file=self.stream)

    def eta(self) -> float | None:
        """Seconds left at the pace so far, ``None`` before the first unit or without a total."""
        if self.total is None or self.done == 0:
            return None
        return (monotonic() - self.start) / self.done * (self.total - self.done)

    def update(self, status: str, n: int = 1) -> None:
        """Count ``n`` more units done and show ``status`` (the running figures) beside the count."""
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_description_str(f"{self.desc}: {status}", refresh=False)
            self._bar.update(n)
            return
        of = f"/{self.total}" if self.total is not None else ""
        eta = self.eta()
        left = f", about {format_duration(eta)} left" if eta is not None and self.done != self.total else ""
        print(f"{self.desc} {self.done}{of}: {status}{left}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def format_duration(seconds: float) -> str:
    """``1h 05m``, ``4m 10s`` or ``12s``."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
