"""The output folder, written all at once or not at all.

A run takes an exclusive lock on the output (`.<name>.lock` beside it), builds everything in a
hidden staging folder beside it, and swaps that folder into place with renames while SIGINT,
SIGTERM and SIGHUP are held back, so every exit path leaves either the old output or the new
one. While it holds the lock it also removes staging folders that runs killed outright
(SIGKILL, a power cut) left behind: with the lock held, no live run can own them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError

STAGING_TAG = "emsync-staging"
_BLOCKED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def staging_pattern(out_dir: Path) -> re.Pattern[str]:
    """Names of the hidden folders a run on `out_dir` creates (staging and the set-aside old
    output), for sweeping and for tests."""
    name = re.escape(out_dir.name)
    return re.compile(rf"^\.{name}\.(?:{STAGING_TAG}-\d+-[0-9a-z]+|old-\d+)$")


def leftovers(out_dir: Path) -> list[Path]:
    """Hidden staging or set-aside folders of `out_dir` that exist now."""
    pattern = staging_pattern(out_dir)
    try:
        return [p for p in out_dir.parent.iterdir() if pattern.match(p.name)]
    except OSError:
        return []


def lock_path(out_dir: Path) -> Path:
    return out_dir.with_name(f".{out_dir.name}.lock")


@contextlib.contextmanager
def locked(out_dir: Path) -> Iterator[None]:
    """Hold the output's lock for the block, or raise OutputError when another run holds it.

    The lock file is removed on release. A run that opened the file just before it was removed
    locks a file that no longer has the name, so after locking it checks that the name still
    points to the file it locked, and starts again if not.
    """
    path = lock_path(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(out_dir.parent, exc) from None
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _unwritable(out_dir.parent, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (process {owner})" if owner.isdigit() else ""
            raise OutputError(
                f"Another emsync run{who} is writing '{out_dir}' right now. Wait for it to "
                "finish, or pass --out to write somewhere else. Nothing was changed."
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        sweep(out_dir)
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def sweep(out_dir: Path) -> list[Path]:
    """Remove what dead runs left beside `out_dir`. Only call it while holding the lock."""
    removed = leftovers(out_dir)
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


class Staging:
    """Build the outputs in a hidden sibling folder, then swap it into place.

    On any exception (KeyboardInterrupt and `Interrupted` included) the half-built folder is
    removed and an existing output stays untouched. Use inside `locked(out_dir)`.
    """

    def __init__(self, out_dir: Path, force: bool) -> None:
        self.out_dir, self.force = out_dir, force
        self.path = out_dir.with_name(
            f".{out_dir.name}.{STAGING_TAG}-{os.getpid()}-{os.urandom(4).hex()}"
        )

    def __enter__(self) -> Path:
        try:
            self.path.mkdir(mode=0o755)
        except OSError as exc:
            raise _unwritable(self.out_dir.parent, exc) from None
        return self.path

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        try:
            with _signals_held():
                self._swap()
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise

    def _swap(self) -> None:
        old = None
        if self.out_dir.exists() or self.out_dir.is_symlink():
            if not self.force:  # appeared while we worked (it was checked at the start)
                raise OutputError(
                    f"The output folder '{self.out_dir}' appeared while this run was working. "
                    "Pass --force to replace it, or --out to write somewhere else. Nothing "
                    "was changed."
                )
            if not self.out_dir.is_dir() or self.out_dir.is_symlink():
                raise OutputError(
                    f"'{self.out_dir}' is not a folder, so --force will not replace it. Remove "
                    "it yourself or choose another --out. Nothing was changed."
                )
            old = self.out_dir.with_name(f".{self.out_dir.name}.old-{os.getpid()}")
            try:
                self.out_dir.rename(old)
            except OSError as exc:
                raise OutputError(
                    f"--force could not move the existing '{self.out_dir}' aside "
                    f"({_reason(exc)}), so it was left as it was and nothing new was written. "
                    "Check that you may change its parent folder, or choose another --out."
                ) from None
        try:
            self.path.rename(self.out_dir)
        except OSError as exc:
            if old is not None:
                old.rename(self.out_dir)
            raise OutputError(
                f"Could not put the new output in place at '{self.out_dir}' ({_reason(exc)}). "
                "Nothing was changed; choose another --out."
            ) from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def check_target(out_dir: Path, force: bool) -> None:
    """Refuse an output path that cannot work, before any work is done."""
    if out_dir.is_file() or (out_dir.exists() and not out_dir.is_dir()):
        raise OutputError(
            f"--out '{out_dir}' is a file, not a folder. EMSYNC writes several files into an "
            "output folder; give a folder path (it is created), e.g. --out scored/."
        )
    if out_dir.exists() and not force:
        raise OutputError(
            f"The output folder '{out_dir}' already exists. Pass --force to replace it, or "
            "--out to write somewhere else. Nothing was changed."
        )
    parent = _existing_parent(out_dir)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"Cannot write the output folder '{out_dir}': you may not create files in "
            f"'{parent}'. Choose a folder you can write to with --out (for example one under "
            "your home folder)."
        )


def _existing_parent(path: Path) -> Path:
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _unwritable(parent: Path, exc: OSError) -> OutputError:
    return OutputError(
        f"Cannot write to '{parent}' ({_reason(exc)}). Choose a folder you can write to with --out."
    )


def _reason(exc: OSError) -> str:
    """An OSError in words, without errno numbers."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    return (exc.strerror or str(exc)).lower()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back SIGINT/SIGTERM/SIGHUP (delivered after the block) so a rename pair cannot be
    split; only possible in the main thread, where Python runs its signal handlers."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCKED)
    except (ValueError, OSError):
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
