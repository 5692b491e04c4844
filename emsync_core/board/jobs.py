"""Jobs: `emsync score` / `emsync analyze` run as subprocesses, one at a time, their progress
turned into events the page receives over server-sent events.

A subprocess, not a thread: the server stays small (no torch or OpenCV in it), a job can be
stopped at any moment with SIGTERM (the CLI then cleans up and leaves the previous output or
none, never a half-written one), and the page runs exactly what the command line runs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# `emsync: [3/7] plan` and `emsync: [6/7] master 50% (stem bass)`: the CLI's plain log lines,
# read when it has no `--progress json` (older versions).
_LOG_LINE = re.compile(r"^emsync: \[(\d+)/(\d+)\] (.+?)(?: (\d+)%.*)?$")
STOP_WAIT_S = 30.0  # how long a stopped job may take to clean up before it is killed
MAX_EVENTS = 1000


class EventLog:
    """Append-only list of (id, kind, data) that SSE streams read from, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[tuple[int, str, dict]] = []
        self._next = 1

    def push(self, kind: str, data: dict) -> None:
        with self._lock:
            self._events.append((self._next, kind, data))
            self._next += 1
            del self._events[:-MAX_EVENTS]

    def since(self, last_id: int) -> list[tuple[int, str, dict]]:
        with self._lock:
            return [e for e in self._events if e[0] > last_id]

    @property
    def last_id(self) -> int:
        with self._lock:
            return self._next - 1


@dataclass
class Step:
    """One subprocess of a job: its arguments to `python -m emsync_core.cli`, and what to do
    with its stdout when it succeeds."""

    args: list[str]
    label: str
    on_success: Callable[[str], None] | None = None


@dataclass
class Job:
    kind: str  # "analyze", "generate", "reroll"
    steps: list[Step]
    on_done: Callable[[Job], None] | None = None
    state: str = "running"  # running, done, failed, cancelled
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    progress: float = 0.0
    stage: str = ""
    eta_s: float | None = None
    proc: subprocess.Popen | None = None
    cancelled: bool = False

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "state": self.state,
            "error": self.error,
            "progress": round(self.progress, 4),
            "stage": self.stage,
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "elapsed_s": round(time.monotonic() - self.started, 2),
        }


class Busy(Exception):
    """Another job is running."""


class Runner:
    """Runs one job at a time in a worker thread and reports on `events`."""

    def __init__(self, events: EventLog, python: str = sys.executable) -> None:
        self.events, self.python = events, python
        self.job: Job | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.state == "running"

    def start(self, job: Job) -> Job:
        with self._lock:
            if self.busy:
                raise Busy(self.job.kind)
            self.job = job
            self._thread = threading.Thread(target=self._run, args=(job,), daemon=True)
            self._thread.start()
        self.events.push("job", job.to_json())
        return job

    def cancel(self) -> bool:
        """SIGTERM the running subprocess; the worker reports 'cancelled' once it has exited."""
        job = self.job
        if job is None or job.state != "running":
            return False
        job.cancelled = True
        _terminate(job.proc)
        return True

    def shutdown(self, wait_s: float = STOP_WAIT_S) -> None:
        """Stop the running job and wait for its subprocess to clean up (server shutdown)."""
        self.cancel()
        if self._thread is not None:
            self._thread.join(wait_s + 5)

    def wait(self, timeout: float | None = None) -> Job | None:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.job

    def _run(self, job: Job) -> None:
        try:
            for i, step in enumerate(job.steps):
                if job.cancelled:
                    break
                out = self._step(job, step, i, len(job.steps))
                if out is None:
                    break
                if step.on_success is not None:
                    step.on_success(out)
            if job.cancelled:
                job.state = "cancelled"
                job.error = None
            elif job.state == "running":
                job.state = "done"
                job.progress = 1.0
                job.eta_s = 0.0
            if job.on_done is not None and job.state == "done":
                job.on_done(job)
        except Exception as exc:  # a bug on our side: say so on the page, keep serving
            job.state = "failed"
            job.error = f"The board failed: {exc!r}"
        finally:
            self.events.push("job", job.to_json())

    def _step(self, job: Job, step: Step, index: int, count: int) -> str | None:
        """Run one subprocess; its stdout on success, None (job state set) otherwise."""
        cmd = [self.python, "-m", "emsync_core.cli", *step.args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # A session of its own: Ctrl-C on the board's terminal reaches the board, which then
        # stops the job with SIGTERM and waits for it, instead of killing it mid-write.
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            start_new_session=True,
        )
        job.proc = proc
        if job.cancelled:  # cancelled between steps
            _terminate(proc)
        stdout_chunks: list[str] = []
        reader = threading.Thread(
            target=lambda: stdout_chunks.append(proc.stdout.read()), daemon=True
        )
        reader.start()
        errors: list[str] = []
        tail: list[str] = []
        for line in proc.stderr:
            line = line.rstrip("\n")
            tail = (tail + [line])[-40:]
            if line.startswith("emsync: error:"):
                errors.append(line.removeprefix("emsync: error:").strip())
            update = parse_progress(line)
            if update is None:
                continue
            inner, stage, eta = update
            job.progress = (index + inner) / count
            job.stage = stage if count == 1 else f"{step.label}: {stage}"
            job.eta_s = eta if eta is not None else _eta(job)
            self.events.push("progress", job.to_json())
        code = proc.wait()
        reader.join()
        job.proc = None
        if job.cancelled:
            return None
        if code == 0:
            return "".join(stdout_chunks)
        job.state = "failed"
        if code == 2 and errors:
            job.error = errors[-1]
        elif code == 2:
            job.error = next((t for t in reversed(tail) if t.startswith("emsync:")), tail[-1:])
            job.error = str(job.error).removeprefix("emsync:").strip()
        else:
            job.error = (
                f"Internal error in emsync (exit {code}), a bug rather than your input: "
                + " / ".join(t for t in tail[-3:] if t.strip())
            )
        return None


def parse_progress(line: str) -> tuple[float, str, float | None] | None:
    """(fraction of the whole run, stage, seconds left) from one stderr line, or None.

    Reads the `--progress json` objects {"stage", "index", "total", "fraction", "eta_s"},
    and the plain `emsync: [i/n] stage NN%` log lines of a CLI without it."""
    line = line.strip()
    if line.startswith("{"):
        try:
            doc = json.loads(line)
            index, total = int(doc["index"]), max(1, int(doc["total"]))
        except (ValueError, KeyError, TypeError):
            return None
        fraction = doc.get("fraction")
        within = float(fraction) if isinstance(fraction, int | float) else 0.0
        eta = doc.get("eta_s")
        done = (max(0, index - 1) + min(1.0, max(0.0, within))) / total
        return done, str(doc.get("stage", "")), float(eta) if isinstance(eta, int | float) else None
    match = _LOG_LINE.match(line)
    if not match:
        return None
    index, total = int(match[1]), max(1, int(match[2]))
    within = int(match[4]) / 100 if match[4] else 0.0
    return (index - 1 + within) / total, match[3], None


def _eta(job: Job) -> float | None:
    """Seconds left from the pace so far (once there is a pace to go by)."""
    elapsed = time.monotonic() - job.started
    if job.progress <= 0.02 or elapsed < 0.5:
        return None
    return elapsed * (1 - job.progress) / job.progress


def _terminate(proc: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL if it has not cleaned up in STOP_WAIT_S (a killed run's leftovers
    are swept by the next run into that folder)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        return

    def reap() -> None:
        try:
            proc.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()

    threading.Thread(target=reap, daemon=True).start()


def score_args(
    input_path: str,
    out: str,
    *,
    engine: str,
    seed: int,
    emotion: str | None = None,
    ensemble: str | None = None,
    preview: bool = False,
    media_root: str | None = None,
    reroll: int | None = None,
    json_progress: bool = True,
    extra: Sequence[str] = (),
) -> list[str]:
    """The `emsync score` arguments for a full generate, or a re-roll of one scene."""
    args = ["score", input_path, "--out", out, f"--seed={seed}"]
    if reroll is None:
        args += ["--force", f"--engine={engine}"]
        if ensemble:
            args.append(f"--ensemble={ensemble}")
    else:
        args.append(f"--reroll={reroll}")
    if preview:  # a re-roll writes the folder again: without it the movie would be dropped
        args.append("--preview")
    if emotion:
        args.append(f"--emotion={emotion}")  # '=': a negative valence is not an option
    if media_root:
        args += ["--media-root", media_root]
    if json_progress:
        args += ["--progress", "json"]
    return [*args, *extra]
