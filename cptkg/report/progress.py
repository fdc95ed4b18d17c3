"""The progress display of a long validation: a tqdm bar on stderr, shown only when stderr is a
terminal (never in a pipe or a log), closed with a newline so results never run into it."""

from __future__ import annotations

import sys
from typing import IO, Any


class Progress:
    """Claims validated, their rate and, where the total is known, the time left."""

    def __init__(self, stream: IO[str] | None = None, total: int | None = None) -> None:
        from tqdm import tqdm

        stream = stream if stream is not None else sys.stderr
        self.enabled = stream.isatty()
        known = "{n}/{total} claims, {rate_noinv_fmt}, ETA {remaining}"
        unknown = "{n} claims, {rate_noinv_fmt}"
        self._bar: Any = tqdm(total=total, file=stream, disable=not self.enabled, unit=" claims",
                              bar_format=("cptkg: " + (known if total else unknown)), leave=True,
                              mininterval=0.2, dynamic_ncols=True)

    def step(self, n: int = 1) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()
