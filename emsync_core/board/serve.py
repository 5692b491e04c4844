"""`emsync board`: start the board on 127.0.0.1 and open the browser on it."""

from __future__ import annotations

import socket
import sys
import threading
import webbrowser
from pathlib import Path

from ..errors import EmsyncError, Interrupted
from . import security

HOST = "127.0.0.1"  # never another interface: the board drives programs and reads files


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def url_of(port: int, token: str) -> str:
    return f"http://{HOST}:{port}/?token={token}"


def run(
    path: Path | None = None,
    media_root: Path | None = None,
    port: int = 0,
    browser: bool = True,
    max_upload_mb: int | None = None,
) -> int:
    import uvicorn

    from .app import MAX_UPLOAD_BYTES, Board, create_app

    port = port or free_port()
    token = security.new_token()
    limit = max_upload_mb * 2**20 if max_upload_mb else MAX_UPLOAD_BYTES
    board = Board(token, port, max_upload=limit)
    if path is not None:
        board.open(path, media_root)  # a bad path stops here, with the CLI's message
    config = uvicorn.Config(
        create_app(board),
        host=HOST,
        port=port,
        log_level="warning",
        # open event streams must not hold up Ctrl-C; the running job is then stopped
        # (SIGTERM) and waited for in the app's shutdown
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    url = url_of(port, token)
    print(f"EMSYNC scene board: {url}", flush=True)
    print("Keep this terminal open; Ctrl-C stops the board.", flush=True)
    if browser:
        threading.Timer(0.5, lambda: webbrowser.open(url)).start()
    try:
        server.run()
    except OSError as exc:
        raise EmsyncError(f"Cannot start the board on {HOST}:{port} ({exc}).") from None
    except (KeyboardInterrupt, Interrupted):
        pass  # uvicorn re-raises the signal it stopped on, after its own clean shutdown
    finally:
        board.runner.shutdown()
    print("EMSYNC scene board stopped.", flush=True)
    return 0


if __name__ == "__main__":  # python -m emsync_core.board.serve PATH (tests)
    sys.exit(run(Path(sys.argv[1]) if len(sys.argv) > 1 else None, browser=False))
