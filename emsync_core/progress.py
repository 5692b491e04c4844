"""Stage progress on a terminal, silence elsewhere, and a timing for every stage."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm


class Stages:
    """Times named stages; shows a progress bar on stderr only when it is a terminal."""

    def __init__(self, total: int, enabled: bool | None = None) -> None:
        show = sys.stderr.isatty() if enabled is None else enabled
        self.timings: dict[str, float] = {}
        self._current = ""
        self._bar = tqdm(
            total=total,
            disable=not show,
            file=sys.stderr,
            bar_format="{desc:<30} {bar:24} {n_fmt}/{total_fmt} [{elapsed}]",
        )

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._current = name
        self._bar.set_description_str(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - start, 4)
        self._bar.update(1)

    def detail(self, text: str) -> None:
        """Say what the current stage is doing (e.g. which stem it renders)."""
        self._bar.set_description_str(f"{self._current}: {text}")

    def close(self) -> None:
        self._bar.close()
