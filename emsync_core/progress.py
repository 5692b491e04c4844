"""Stage progress: a bar on a terminal, plain log lines elsewhere, a timing for every stage.

Log lines (stderr is a file, a pipe, a job queue's log, Resolve's console) come one per stage
and one every ~10 % of a long stage, with the time left estimated from the pace so far, so a
run that is working can be told from one that hangs. For programs that drive `emsync` (the
scene board), `json_lines=True` writes one JSON object per update instead:
{"stage", "index", "total", "fraction", "eta_s", "note"}.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

LINE_STEP = 0.1  # a log line every 10 % of a stage
JSON_STEP = 0.02  # a JSON line every 2 % of a stage: enough for a smooth bar in a page


class Stages:
    """Times named stages and reports progress on `stream` (default stderr).

    `enabled`: None shows a bar on a terminal and log lines elsewhere; False shows nothing.
    `json_lines`: one JSON object per line instead, for a program reading stderr.
    """

    def __init__(
        self,
        total: int,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        json_lines: bool = False,
    ) -> None:
        self.stream = stream or sys.stderr
        self.timings: dict[str, float] = {}
        self.total = total
        self._current = ""
        self._index = 0
        self._started = time.perf_counter()
        self._next_line = LINE_STEP
        self._bar = None
        self._lines = False
        self._json = json_lines and enabled is not False
        if enabled is False or self._json:
            return
        if _isatty(self.stream):
            from tqdm import tqdm  # only for terminals: keeps start-up light elsewhere

            self._bar = tqdm(
                total=total,
                file=self.stream,
                bar_format="{desc:<30} {bar:24} {n_fmt}/{total_fmt} [{elapsed}]",
            )
        else:
            self._lines = True

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._current = name
        self._index += 1
        self._next_line = JSON_STEP if self._json else LINE_STEP
        start = self._started = time.perf_counter()
        if self._bar is not None:
            self._bar.set_description_str(name)
        self._say(name)
        self._emit(0.0)
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - start, 4)
        self._emit(1.0)
        if self._bar is not None:
            self._bar.update(1)

    def detail(self, text: str) -> None:
        """Say what the current stage is doing (e.g. which stem it renders): on the bar only."""
        if self._bar is not None:
            self._bar.set_description_str(f"{self._current}: {text}")

    def fraction(self, done: float, what: str = "") -> None:
        """How far the current stage has got (0-1): on the bar, and as a log line with the time
        left each time another 10 % is done."""
        label = f"{done:.0%}" + (f" {what}" if what else "")
        self.detail(label)
        step = JSON_STEP if self._json else LINE_STEP
        if not (self._lines or self._json) or done < self._next_line or done <= 0:
            return
        while self._next_line <= done:
            self._next_line += step
        if self._json:
            self._emit(done)
            return
        elapsed = time.perf_counter() - self._started
        left = elapsed * (1 - done) / done
        suffix = f" (about {format_duration(left)} left)" if done < 1 and elapsed > 2 else ""
        self._say(f"{self._current} {label}{suffix}")

    def note(self, text: str) -> None:
        """A line the user should see before long work (disk space, an estimate), in every
        mode but silence."""
        if self._bar is not None:
            self._bar.write(f"emsync: {text}", file=self.stream)
        elif self._lines:
            self._say(text, numbered=False)
        elif self._json:
            self._emit(None, note=text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def _emit(self, done: float | None, note: str | None = None) -> None:
        if not self._json:
            return
        elapsed = time.perf_counter() - self._started
        eta = None
        if done is not None and 0 < done < 1 and elapsed > 0.5:
            eta = round(elapsed * (1 - done) / done, 1)
        line = {
            "stage": self._current,
            "index": self._index,
            "total": self.total,
            "fraction": None if done is None else round(done, 4),
            "eta_s": eta,
            "note": note,
        }
        print(json.dumps(line), file=self.stream, flush=True)

    def _say(self, text: str, numbered: bool = True) -> None:
        if not self._lines:
            return
        prefix = f"[{self._index}/{self.total}] " if numbered else ""
        print(f"emsync: {prefix}{text}", file=self.stream, flush=True)


def format_duration(seconds: float) -> str:
    """'40 s', '3 min', '1 h 20 min': the precision a person plans with."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
